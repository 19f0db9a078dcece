//! LOCAL INFILE Request: the server asks for a client file by name during a COM_QUERY, and the
//! client sends its contents (or nothing, when local_infile is off).

use super::connection::{Conn, Pending};
use super::result_set::StatementResult;
use crate::error::Error;
use crate::protocol::constants::status::*;
use crate::protocol::response::Response;

/// LOCAL INFILE data is sent in packets of this size.
const MAX_PACKET_PAYLOAD_CHUNK: usize = 1 << 20;

impl Conn {
    /// Answers a LOCAL INFILE Request of result `id` for file `name`, then reads the statement's OK.
    pub(super) async fn send_local_infile(&mut self, id: u64, name: &[u8]) -> Result<StatementResult, Error> {
        // The file goes only when the caller enabled local_infile; a server asking anyway
        // (a malicious one reading client files) gets an empty file and the caller an error.
        let name = String::from_utf8_lossy(name).into_owned();
        let contents = if self.options.local_infile {
            self.runtime.read_file_bytes(&name)
        } else {
            Err(Error::NotSupported("LOAD DATA LOCAL INFILE is disabled (local_infile)".into()))
        };
        let chunk = MAX_PACKET_PAYLOAD_CHUNK;
        if let Ok(data) = &contents {
            for part in data.chunks(chunk) {
                self.write_packet(part).await?;
            }
        }
        self.write_packet(&[]).await?;
        let packet = self.read_packet().await?;
        let context = "LOCAL INFILE reply";
        let response = Response::parse_ok_or_err(&packet, self.capabilities, context).map_err(Error::from);
        match self.track(response)? {
            Response::Err(e) => Err(e.into()),
            Response::Ok(ok) => {
                self.record_ok(&ok);
                if ok.status_flags & SERVER_MORE_RESULTS_EXISTS != 0 {
                    self.pending = Pending::MoreResults { id };
                }
                contents.map(|_| StatementResult::Ok(ok))
            }
            other => {
                self.mark_broken();
                Err(other.unexpected(context).into())
            }
        }
    }
}
