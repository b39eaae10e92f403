//! Device nodes and loop block devices made inside a scratch directory, so that tests that
//! copy to devices never name the machine's own.

use super::Scratch;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// Makes a character device node at `path` (in a fixture's directory), as `Scratch::char_device`.
pub fn char_device_at(path: &Path, major: u32, minor: u32) {
    let dev = rustix::fs::makedev(major, minor);
    make_node(path, rustix::fs::FileType::CharacterDevice, dev);
}

pub(super) fn make_node(path: &Path, kind: rustix::fs::FileType, dev: u64) {
    let mode = rustix::fs::Mode::from_raw_mode(0o666);
    // chmod after: the umask narrows mknod's mode, and /dev's nodes are 0666.
    rustix::fs::mknodat(rustix::fs::CWD, path, kind, mode, dev)
        .and_then(|()| rustix::fs::chmod(path, mode))
        .unwrap_or_else(|e| panic!("mknod {path:?}: {e}"));
}

/// A loop block device over an image file in a scratch directory, reached through a device
/// node made in that directory, detached however the test ends.
pub struct LoopDevice {
    /// The node in the scratch directory: what tests read, write and pass to the programs.
    pub node: PathBuf,
    /// /dev/loopN, for losetup only.
    device: PathBuf,
}

impl LoopDevice {
    /// A device of `size` bytes over `image` and reached through `node` (both inside `s`).
    /// None, with the reason printed, where loop devices cannot be set up.
    pub fn new(s: &Scratch, image: &str, node: &str, size: u64) -> Option<LoopDevice> {
        let image = s.join(image);
        std::fs::File::create(&image)
            .unwrap()
            .set_len(size)
            .unwrap();
        let out = std::process::Command::new("losetup")
            .args(["--find", "--show"])
            .arg(&image)
            .output();
        let device = match out {
            Ok(out) if out.status.success() => {
                PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
            }
            _ => {
                super::skip("losetup refused here (needs root and loop devices)");
                return None;
            }
        };
        // Made at once, so the device is detached even if what follows fails.
        let dev = LoopDevice {
            node: s.join(node),
            device,
        };
        let rdev = std::fs::metadata(&dev.device).unwrap().rdev();
        let kind = rustix::fs::FileType::BlockDevice;
        let mode = rustix::fs::Mode::from_raw_mode(0o600);
        rustix::fs::mknodat(rustix::fs::CWD, &dev.node, kind, mode, rdev).unwrap();
        Some(dev)
    }
}

impl Drop for LoopDevice {
    fn drop(&mut self) {
        let _ = std::process::Command::new("losetup")
            .arg("-d")
            .arg(&self.device)
            .status();
    }
}
