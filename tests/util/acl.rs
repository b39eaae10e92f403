//! POSIX ACLs as the kernel keeps them, in the system.posix_acl_access and
//! system.posix_acl_default extended attributes.

pub const USER_OBJ: u16 = 0x01;
pub const USER: u16 = 0x02;
pub const GROUP_OBJ: u16 = 0x04;
pub const MASK: u16 = 0x10;
pub const OTHERS: u16 = 0x20;
/// The id of an entry that names no user or group (the owner's, the mask, others').
pub const NO_ID: u32 = u32::MAX;

/// An ACL xattr value (version 2): entries of tag, permissions and id.
pub fn xattr(entries: &[(u16, u16, u32)]) -> Vec<u8> {
    let mut out = 2u32.to_le_bytes().to_vec();
    for &(tag, perm, id) in entries {
        out.extend_from_slice(&tag.to_le_bytes());
        out.extend_from_slice(&perm.to_le_bytes());
        out.extend_from_slice(&id.to_le_bytes());
    }
    out
}
