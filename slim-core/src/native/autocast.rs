//! libtorch's autocast switch on the calling thread, for any device type (`csrc/autocast.cpp`).

use tch::Device;

unsafe extern "C" {
    fn slim_autocast_state(device_type: i32, dtype: *mut i32) -> bool;
    fn slim_autocast_enter(device_type: i32, enabled: bool, dtype: i32);
    fn slim_autocast_exit(device_type: i32, enabled: bool, dtype: i32);
}

/// The lower-precision float types autocast can run operations in (values are c10's `ScalarType`s).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum AutocastType {
    /// IEEE half precision.
    Half = 5,
    /// bfloat16.
    BFloat16 = 15,
}

/// c10's `DeviceType` of `device`.
pub(crate) fn device_type(device: Device) -> i32 {
    match device {
        Device::Cpu => 0,
        Device::Cuda(_) => 1,
        Device::Mps => 13,
        Device::Vulkan => 10,
    }
}

/// Whether autocast is on for `device`'s type on the calling thread, and its type then.
pub(crate) fn autocast_type(device: Device) -> Option<AutocastType> {
    let mut dtype = 0;
    // SAFETY: reads thread-local state; `dtype` is a valid out-pointer for the call.
    let enabled = unsafe { slim_autocast_state(device_type(device), &mut dtype) };
    match (enabled, dtype) {
        (true, 5) => Some(AutocastType::Half),
        (true, 15) => Some(AutocastType::BFloat16),
        _ => None,
    }
}

/// Autocast on (with a type) or off for one device type on the calling thread until dropped; the state from
/// before comes back then. Not `Send`: it must end on the thread it began on.
pub(crate) struct AutocastScope {
    device_type: i32,
    before: (bool, i32),
    _not_send: std::marker::PhantomData<*const ()>,
}

impl AutocastScope {
    /// Sets autocast for `device`'s type to `dtype` (`None`: off).
    pub(crate) fn enter(device: Device, dtype: Option<AutocastType>) -> AutocastScope {
        let device_type = device_type(device);
        let mut before_dtype = 0;
        // SAFETY: thread-local state only; the enum values are valid c10 device and scalar types.
        let before_enabled = unsafe { slim_autocast_state(device_type, &mut before_dtype) };
        let (enabled, dtype) = match dtype {
            Some(dtype) => (true, dtype as i32),
            None => (false, before_dtype),
        };
        // SAFETY: as above.
        unsafe { slim_autocast_enter(device_type, enabled, dtype) };
        AutocastScope { device_type, before: (before_enabled, before_dtype), _not_send: std::marker::PhantomData }
    }
}

impl Drop for AutocastScope {
    fn drop(&mut self) {
        let (enabled, dtype) = self.before;
        // SAFETY: restores the values read when the scope began, on the same thread (the scope is not Send).
        unsafe { slim_autocast_exit(self.device_type, enabled, dtype) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::{Kind, Tensor};

    #[test]
    fn a_scope_casts_matrix_products_on_its_thread_until_it_ends() {
        let (a, b) =
            (Tensor::ones([4, 4], (Kind::Float, Device::Cpu)), Tensor::ones([4, 4], (Kind::Float, Device::Cpu)));
        assert_eq!(autocast_type(Device::Cpu), None);
        {
            let _scope = AutocastScope::enter(Device::Cpu, Some(AutocastType::BFloat16));
            assert_eq!(autocast_type(Device::Cpu), Some(AutocastType::BFloat16));
            assert_eq!(a.mm(&b).kind(), Kind::BFloat16);
            assert_eq!((&a + &b).kind(), Kind::Float, "element-wise operations keep their type");
            {
                let _off = AutocastScope::enter(Device::Cpu, None);
                assert_eq!(a.mm(&b).kind(), Kind::Float);
            }
            assert_eq!(a.mm(&b).kind(), Kind::BFloat16, "the outer scope is back");
            let elsewhere = std::thread::spawn(|| autocast_type(Device::Cpu)).join().unwrap();
            assert_eq!(elsewhere, None, "other threads are not affected");
        }
        assert_eq!(autocast_type(Device::Cpu), None);
        assert_eq!(a.mm(&b).kind(), Kind::Float);
    }
}
