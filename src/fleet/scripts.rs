//! The Lua scripts a Redis-compatible store runs for the fleet protocol, as
//! data: the native Redis store and the JS Redis stores run the same text, so
//! every language makes the same decisions inside Redis.
//!
//! A record's header is read as [`super::record::header`] reads it:
//! `<expires_unix_ms>.<fingerprint>.<sealed>`. Both keys of a call share a hash
//! tag ([`super::Keys`]), so the scripts also run on one Cluster slot.

/// Publishes a record and releases the lock, atomically.
///
/// An expiry beyond 64 bits is no expiry, as [`super::record::header`] reads
/// it: such a value is not a record, and is replaced.
///
/// `KEYS[1]` the token key, `KEYS[2]` (optional) the lock; `ARGV[1]` the
/// record, `ARGV[2]` its time-to-live in ms (a positive integer), `ARGV[3]`
/// (with `KEYS[2]`) the lock owner. Writes the record unless the stored one is
/// a record that expires later (the rule of [`crate::Store::publish`]), then deletes the
/// lock only if it still holds that owner. Returns 1 if it wrote, else 0.
pub const PUBLISH: &str = r#"
local function expiry(record)
  local ms = string.match(record, '^([+-]?%d+)%.[^.]*%.')
  if not ms then return nil end
  local n = tonumber(ms)
  if n >= 9.2e18 or n <= -9.2e18 then return nil end
  return n
end
local stored = redis.call('GET', KEYS[1])
local write = true
if stored then
  local old = expiry(stored)
  if old then
    local new = expiry(ARGV[1])
    write = new ~= nil and new >= old
  end
end
if write then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
end
if KEYS[2] and redis.call('GET', KEYS[2]) == ARGV[3] then
  redis.call('DEL', KEYS[2])
end
if write then return 1 end
return 0
"#;

/// Reads a record, refusing one over [`super::record::MAX_RECORD_BYTES`]
/// (the figure below) in the server, so that it never crosses the network.
///
/// `KEYS[1]` the key. Returns the value (nil if none), or an error reply for
/// a longer one. Only `GET` runs inside, so an ACL user needs no more than
/// the other scripts do.
pub const GET: &str = r#"
local value = redis.call('GET', KEYS[1])
if value and #value > 65536 then
  return redis.error_reply('TOOLONG the stored value is over 65536 bytes')
end
return value
"#;

/// Releases a lock only if it still holds our owner id.
///
/// `KEYS[1]` the lock, `ARGV[1]` the owner. Returns 1 if it released.
pub const UNLOCK: &str = r#"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"#;

/// Removes a record only if it still holds the token with this fingerprint
/// (after a 401: an old token's rejection must not discard a newer one).
///
/// `KEYS[1]` the token key, `ARGV[1]` the fingerprint. Returns 1 if it removed.
pub const REMOVE_IF: &str = r#"
local stored = redis.call('GET', KEYS[1])
if stored then
  local fingerprint = string.match(stored, '^[+-]?%d+%.([^.]*)%.')
  if fingerprint == ARGV[1] then
    return redis.call('DEL', KEYS[1])
  end
end
return 0
"#;

/// Counts one token request against a credential's budget, if it allows one
/// (see [`crate::budget`]): a sorted set of request instants, scored by Unix
/// ms, on its own key, so it runs on any Cluster slot.
///
/// `KEYS[1]` the counter ([`crate::budget::key`]); `ARGV[1]` the limit,
/// `ARGV[2]` the window in ms, `ARGV[3]` now in Unix ms (the caller's clock:
/// the fleet's clocks agree to within their skew). Drops the instants that
/// left the window; below the limit, adds now and keeps the key one window
/// and returns 0; else returns the ms (at least 1) until the oldest leaves.
/// Members are `<now>:<count>`: unique, since within one millisecond the
/// count only grows.
pub const BUDGET: &str = r#"
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local count = redis.call('ZCARD', KEYS[1])
if count < limit then
  redis.call('ZADD', KEYS[1], now, ARGV[3] .. ':' .. count)
  redis.call('PEXPIRE', KEYS[1], window)
  return 0
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return math.max(1, tonumber(oldest[2]) + window - now)
"#;

#[cfg(test)]
mod tests {
    #[test]
    fn get_refuses_what_the_core_refuses() {
        let limit = super::super::record::MAX_RECORD_BYTES.to_string();
        assert!(super::GET.contains(&format!("#value > {limit} then")));
    }
}
