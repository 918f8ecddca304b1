//! Unix seconds ⇄ W3C date-times (`2026-11-25T18:00:00+00:00`), without a date crate.

pub fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// `2026-11-25T18:00:00+00:00`, as plentymarkets writes dates.
pub fn w3c(unix: i64) -> String {
    let (y, m, d) = civil_from_days(unix.div_euclid(86_400));
    let s = unix.rem_euclid(86_400);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}+00:00",
        s / 3600,
        (s / 60) % 60,
        s % 60
    )
}

/// Unix seconds, or `YYYY-MM-DD[THH:MM[:SS[.fff]]][Z|±HH:MM|±HHMM]`.
pub fn parse(text: &str) -> Option<i64> {
    let t = text.trim();
    if let Ok(n) = t.parse::<i64>() {
        return Some(n);
    }
    let num = |s: &str| s.parse::<i64>().ok();
    let (date, rest) = t.split_at(t.len().min(10));
    let mut parts = date.split('-');
    let (y, mo, d) = (num(parts.next()?)?, num(parts.next()?)?, num(parts.next()?)?);
    let mut secs = days_from_civil(y, mo, d) * 86_400;
    let rest = rest.strip_prefix(['T', ' ']).unwrap_or(rest);
    if rest.is_empty() {
        return Some(secs);
    }
    let zone_at = rest.find(['Z', '+', '-']).unwrap_or(rest.len());
    let (time, zone) = rest.split_at(zone_at);
    let mut hms = time.split(':');
    secs += num(hms.next()?)? * 3600 + num(hms.next().unwrap_or("0"))? * 60;
    if let Some(s) = hms.next() {
        secs += num(s.split('.').next()?)?;
    }
    match zone.chars().next() {
        None | Some('Z') => {}
        Some(sign) => {
            let z = zone[1..].replace(':', "");
            let off = num(&z[..2.min(z.len())])? * 3600 + num(z.get(2..4).unwrap_or("0"))? * 60;
            secs += if sign == '+' { -off } else { off };
        }
    }
    Some(secs)
}

/// `from,to` (either side may be empty) → inclusive bounds.
pub fn window(text: &str) -> Option<(Option<i64>, Option<i64>)> {
    let (from, to) = text.split_once(',').unwrap_or((text, ""));
    let side = |s: &str| {
        if s.trim().is_empty() {
            Ok(None)
        } else {
            parse(s).map(Some).ok_or(())
        }
    };
    Some((side(from).ok()?, side(to).ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_zones() {
        let t = 1_795_608_000; // 2026-11-25T12:00:00Z
        assert_eq!(w3c(t), "2026-11-25T12:00:00+00:00");
        assert_eq!(parse("2026-11-25T12:00:00+00:00"), Some(t));
        assert_eq!(parse("2026-11-25T13:00:00+01:00"), Some(t));
        assert_eq!(parse("2026-11-25T12:00:00.123Z"), Some(t));
        assert_eq!(parse("2026-11-25"), Some(t - 12 * 3600));
        assert_eq!(parse(&t.to_string()), Some(t));
        assert_eq!(window("2026-11-25,"), Some((Some(t - 43_200), None)));
        assert_eq!(parse("garbage"), None);
    }
}
