//! Authentication plugins: each turns a password and the server's nonce into the bytes it expects.

pub mod native_password;

use crate::error::Error;

/// The plugins this build can answer, by the name the server gives.
pub fn auth_response(plugin: &str, password: &str, nonce: &[u8]) -> Result<Vec<u8>, Error> {
    match plugin {
        "mysql_native_password" | "" => Ok(native_password::scramble(password.as_bytes(), nonce)),
        other => Err(Error::NotSupported(format!("authentication plugin '{other}'"))),
    }
}
