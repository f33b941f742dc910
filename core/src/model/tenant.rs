//! The tenant-name rule, one for every host: a tenant is 1 to [`MAX_TENANT_LEN`] bytes of
//! UTF-8 (any characters; it is a key part, so any byte is safe in storage).

use crate::error::{Error, Result};

/// Largest tenant name, in bytes.
pub const MAX_TENANT_LEN: usize = 128;

/// Check a tenant name. Errors: `InvalidArgument` for an empty or over-long name.
pub fn check_tenant(tenant: &str) -> Result<()> {
    if tenant.is_empty() || tenant.len() > MAX_TENANT_LEN {
        return Err(Error::InvalidArgument(format!(
            "tenant must be 1 to {MAX_TENANT_LEN} bytes, got {} bytes",
            tenant.len()
        )));
    }
    Ok(())
}
