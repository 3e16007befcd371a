//! Flush denormals to zero on the audio thread, so that decaying signals never fall into the slow
//! subnormal path of the FPU. Realtime-safe: two register accesses.

/// Sets FTZ and DAZ for the current thread while alive and restores the previous mode on drop.
pub struct DenormalGuard {
    #[cfg(target_arch = "x86_64")]
    saved: u32,
}

impl DenormalGuard {
    /// Enter flush-to-zero mode on this thread.
    #[allow(deprecated, unsafe_code)]
    pub fn new() -> Self {
        #[cfg(target_arch = "x86_64")]
        {
            use std::arch::x86_64::{_mm_getcsr, _mm_setcsr};
            // FTZ (bit 15) and DAZ (bit 6) of MXCSR.
            const FTZ_DAZ: u32 = 0x8040;
            // SAFETY: SSE is part of the x86_64 baseline; changing the rounding of subnormals
            // affects only this thread's floating point and is undone on drop.
            let saved = unsafe { _mm_getcsr() };
            // SAFETY: as above.
            unsafe { _mm_setcsr(saved | FTZ_DAZ) };
            Self { saved }
        }
        #[cfg(not(target_arch = "x86_64"))]
        Self {}
    }
}

impl Default for DenormalGuard {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for DenormalGuard {
    #[allow(deprecated, unsafe_code)]
    fn drop(&mut self) {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: restores the mode this guard saved on this same thread.
        unsafe {
            std::arch::x86_64::_mm_setcsr(self.saved)
        };
    }
}
