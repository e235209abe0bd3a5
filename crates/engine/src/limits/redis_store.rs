//! GCRA state shared through Redis, for several API nodes behind one limit.
//!
//! The script is the Lua twin of [`super::gcra::decide`]; it uses Redis's own
//! clock so nodes with skewed clocks still agree.

use redis::{aio::ConnectionManager, Script};

use super::gcra::{Decision, Quota};
use std::time::Duration;

const GCRA_SCRIPT: &str = r#"
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) * 1000000 + tonumber(now_parts[2])
local emission = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local burst = tonumber(ARGV[4])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local new_tat = tat + cost * emission
local allow_at = new_tat - tolerance - emission
if now < allow_at then
  return {0, 0, tat - now, allow_at - now}
end
if cost > 0 then
  redis.call('SET', KEYS[1], string.format('%d', new_tat), 'PX', math.ceil((new_tat - now) / 1000) + 1)
end
local remaining = math.floor((now + tolerance + emission - new_tat) / emission)
if remaining < 0 then remaining = 0 end
if remaining > burst then remaining = burst end
return {1, remaining, new_tat - now, 0}
"#;

#[derive(Clone)]
pub struct RedisStore {
    connection: ConnectionManager,
    script: Script,
    namespace: String,
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStore").field("namespace", &self.namespace).finish_non_exhaustive()
    }
}

impl RedisStore {
    pub async fn connect(url: &str, namespace: &str) -> redis::RedisResult<Self> {
        let client = redis::Client::open(url)?;
        let connection = ConnectionManager::new(client).await?;
        Ok(Self { connection, script: Script::new(GCRA_SCRIPT), namespace: namespace.to_owned() })
    }

    pub async fn decide(
        &self,
        key: &str,
        quota: &Quota,
        cost: u32,
    ) -> redis::RedisResult<Decision> {
        let mut connection = self.connection.clone();
        let (allowed, remaining, reset_us, retry_us): (i64, i64, i64, i64) = self
            .script
            .key(format!("{}:{key}", self.namespace))
            .arg(quota.emission_us())
            .arg(quota.tolerance_us())
            .arg(cost)
            .arg(quota.burst)
            .invoke_async(&mut connection)
            .await?;
        let micros = |us: i64| Duration::from_micros(u64::try_from(us.max(0)).unwrap_or(0));
        Ok(Decision {
            allowed: allowed == 1,
            limit: quota.burst,
            remaining: u32::try_from(remaining.max(0)).unwrap_or(0),
            reset_after: micros(reset_us),
            retry_after: (allowed != 1).then(|| micros(retry_us)),
        })
    }
}
