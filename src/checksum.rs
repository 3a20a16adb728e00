//! CRC-32C (Castagnoli) of the file's header and body.
//!
//! With `std`, the `crc32c` crate picks the SSE4.2 / ARMv8 instruction at run time (about 20 GB/s);
//! without `std` (agents in kernels and firmware) the table-driven `crc` crate computes the same
//! function. `tests` below holds both to the catalogue check value.

/// The CRC-32C of `bytes`.
#[must_use]
pub fn crc32c(bytes: &[u8]) -> u32 {
    #[cfg(feature = "std")]
    {
        crc32c::crc32c(bytes)
    }
    #[cfg(not(feature = "std"))]
    {
        software(bytes)
    }
}

const SOFTWARE: crc::Crc<u32, crc::Table<16>> =
    crc::Crc::<u32, crc::Table<16>>::new(&crc::CRC_32_ISCSI);

#[cfg_attr(feature = "std", allow(dead_code))]
fn software(bytes: &[u8]) -> u32 {
    SOFTWARE.checksum(bytes)
}

#[cfg(test)]
mod tests {
    #[test]
    fn both_implementations_give_the_catalogue_check_value() {
        assert_eq!(super::software(b"123456789"), 0xE306_9283);
        assert_eq!(super::crc32c(b"123456789"), 0xE306_9283);
    }

    #[test]
    fn both_implementations_agree_on_every_length_and_alignment() {
        let data: Vec<u8> = (0..1024u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        for start in 0..8 {
            for end in start..data.len() {
                let s = &data[start..end];
                assert_eq!(super::software(s), super::crc32c(s), "{start}..{end}");
            }
        }
    }
}
