//! When a message may go out: quiet hours and the daily digest, in the
//! user's own time zone (IANA names, jiff with the time zone database
//! bundled, so a machine without tzdata still knows Europe/Berlin).
//!
//! Pure: the clock is passed in.

use jiff::{civil::Time, tz::TimeZone, Timestamp, Zoned};
use time::OffsetDateTime;

/// A `HH:MM` local time, or why not.
pub fn parse_clock(text: &str) -> Result<Time, String> {
    let (hour, minute) = text.split_once(':').ok_or("a time as HH:MM")?;
    let valid = hour.len() == 2 && minute.len() == 2;
    let hour: i8 = hour.parse().map_err(|_| "a time as HH:MM")?;
    let minute: i8 = minute.parse().map_err(|_| "a time as HH:MM")?;
    if !valid {
        return Err("a time as HH:MM".into());
    }
    Time::new(hour, minute, 0, 0).map_err(|_| "a time between 00:00 and 23:59".into())
}

/// An IANA time zone (`Europe/Berlin`, `UTC`), or why not.
pub fn parse_zone(name: &str) -> Result<TimeZone, String> {
    TimeZone::get(name).map_err(|_| {
        format!("`{name}` is not a known time zone (use an IANA name such as Europe/Berlin)")
    })
}

fn to_jiff(at: OffsetDateTime) -> Timestamp {
    Timestamp::from_nanosecond(at.unix_timestamp_nanos()).unwrap_or(Timestamp::UNIX_EPOCH)
}

fn from_jiff(at: Timestamp) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(at.as_nanosecond())
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// The first moment at or after `now` whose local clock reads `clock`
/// (strictly after when `strictly`); a clock skipped by a DST change moves
/// forward with it.
fn next_at(now: &Zoned, clock: Time, strictly: bool) -> Zoned {
    let today = now.date().to_datetime(clock);
    let candidate = today.to_zoned(now.time_zone().clone()).unwrap_or_else(|_| now.clone());
    let passed = if strictly { candidate <= *now } else { candidate < *now };
    if !passed {
        return candidate;
    }
    let tomorrow = now.date().tomorrow().unwrap_or(now.date()).to_datetime(clock);
    tomorrow.to_zoned(now.time_zone().clone()).unwrap_or_else(|_| now.clone())
}

/// Whether local clock `time` is inside `[start, end)` (which may wrap midnight).
fn inside(time: Time, start: Time, end: Time) -> bool {
    if start <= end {
        start <= time && time < end
    } else {
        time >= start || time < end
    }
}

/// When a message recorded at `now` may be sent: `now`, or the end of the
/// quiet hours it falls in.
pub fn after_quiet_hours(
    now: OffsetDateTime,
    zone: &TimeZone,
    start: Time,
    end: Time,
) -> OffsetDateTime {
    let local = to_jiff(now).to_zoned(zone.clone());
    if start == end || !inside(local.time(), start, end) {
        return now;
    }
    from_jiff(next_at(&local, end, false).timestamp())
}

/// The next daily digest after `now`.
pub fn next_digest(now: OffsetDateTime, zone: &TimeZone, at: Time) -> OffsetDateTime {
    let local = to_jiff(now).to_zoned(zone.clone());
    from_jiff(next_at(&local, at, true).timestamp())
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    fn berlin() -> TimeZone {
        parse_zone("Europe/Berlin").expect("bundled")
    }

    fn clock(text: &str) -> Time {
        parse_clock(text).expect("clock")
    }

    #[test]
    fn clocks_and_zones_parse_strictly() {
        assert_eq!(clock("07:30"), Time::new(7, 30, 0, 0).expect("time"));
        for bad in ["7:30", "24:00", "12:60", "1230", "aa:bb", ""] {
            assert!(parse_clock(bad).is_err(), "{bad}");
        }
        assert!(parse_zone("Mars/Olympus").is_err());
        assert!(parse_zone("UTC").is_ok());
    }

    #[test]
    fn overnight_quiet_hours_hold_messages_until_morning_local_time() {
        let (start, end) = (clock("22:00"), clock("07:00"));
        // 23:30 in Berlin in winter (UTC+1) is 22:30 UTC: held until 07:00 Berlin = 06:00 UTC.
        let late = datetime!(2026-12-01 22:30 UTC);
        assert_eq!(after_quiet_hours(late, &berlin(), start, end), datetime!(2026-12-02 06:00 UTC));
        // 05:00 Berlin: held until 07:00 the same morning.
        let early = datetime!(2026-12-02 04:00 UTC);
        assert_eq!(
            after_quiet_hours(early, &berlin(), start, end),
            datetime!(2026-12-02 06:00 UTC)
        );
        // Midday: out at once.
        let noon = datetime!(2026-12-02 11:00 UTC);
        assert_eq!(after_quiet_hours(noon, &berlin(), start, end), noon);
        // Summer time (UTC+2): 07:00 Berlin is 05:00 UTC.
        let summer = datetime!(2026-07-01 21:00 UTC);
        assert_eq!(
            after_quiet_hours(summer, &berlin(), start, end),
            datetime!(2026-07-02 05:00 UTC)
        );
    }

    #[test]
    fn daytime_windows_and_empty_windows() {
        let lunch = (clock("12:00"), clock("13:00"));
        let at = datetime!(2026-12-01 11:30 UTC); // 12:30 Berlin
        assert_eq!(
            after_quiet_hours(at, &berlin(), lunch.0, lunch.1),
            datetime!(2026-12-01 12:00 UTC)
        );
        let never = clock("09:00");
        assert_eq!(after_quiet_hours(at, &berlin(), never, never), at);
    }

    #[test]
    fn the_digest_goes_out_at_the_next_local_time() {
        let utc = parse_zone("UTC").expect("utc");
        let eight = clock("08:00");
        assert_eq!(
            next_digest(datetime!(2026-12-01 07:59 UTC), &utc, eight),
            datetime!(2026-12-01 08:00 UTC)
        );
        assert_eq!(
            next_digest(datetime!(2026-12-01 08:00 UTC), &utc, eight),
            datetime!(2026-12-02 08:00 UTC)
        );
        assert_eq!(
            next_digest(datetime!(2026-12-01 09:00 UTC), &berlin(), eight),
            datetime!(2026-12-02 07:00 UTC)
        );
    }
}
