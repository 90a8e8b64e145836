//! Where a tensor's storage lives.

use std::fmt;

/// The device a tensor lives on, like `torch.device`. Only the CPU exists today; the enum
/// is `non_exhaustive` so a later backend is added without breaking anyone's `match`.
///
/// ```
/// use tapegrad::{Device, Tensor};
/// let x: Tensor = Tensor::zeros(&[2, 2]).to_device(Device::Cpu);
/// assert_eq!(x.device(), Device::Cpu);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Device {
    /// Main memory and the host CPU.
    #[default]
    Cpu,
}

impl fmt::Display for Device {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Device::Cpu => write!(f, "cpu"),
        }
    }
}
