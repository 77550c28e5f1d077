//! A listed entry's answer: the A value (`127.0.0.x`) and the TXT template,
//! parsed from rbldnsd's `:A:TXT` syntax, and the template's expansion
//! (`$`, `$$`, `$0`..`$9`, `$=` and the base template), as rbldnsd(8)
//! documents it in "Resulting A values and TXT templates".
//!
//! Invariant: a template is at most 255 bytes (longer ones are cut, as
//! rbldnsd does) and an expanded TXT string at most 254 bytes.

/// Longest TXT template kept from a zone file (rbldnsd cuts at 255 bytes).
const MAX_TEMPLATE: usize = 255;
/// Longest expanded TXT string (rbldnsd's limit, one byte under a
/// character-string's 255).
pub(crate) const MAX_TXT: usize = 254;

/// The A value and TXT template of one entry (or of a file's default).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Value {
    /// The A record's address, usually `127.0.0.x`.
    pub a: [u8; 4],
    /// The TXT template; empty means no TXT record (unless the zone has a
    /// base template `$=`).
    pub txt: Box<[u8]>,
}

impl Default for Value {
    /// rbldnsd's default: "rbldnsd will return 127.0.0.2 for matching A
    /// queries and no record for matching TXT queries".
    fn default() -> Self {
        Self {
            a: [127, 0, 0, 2],
            txt: Box::default(),
        }
    }
}

/// The substitution variables of a dataset: `$0`..`$9` and the base
/// template `$=`. Only the first assignment of each counts.
#[derive(Debug, Clone, Default)]
pub(crate) struct Subst {
    vars: [Option<Box<[u8]>>; 10],
    base: Option<Box<[u8]>>,
}

impl Subst {
    /// Handles a `$n text` or `$= text` line (without the `$`); returns
    /// false when the line is not a substitution line.
    pub(crate) fn set(&mut self, line: &[u8]) -> Option<bool> {
        let (&key, rest) = line.split_first()?;
        let (&sep, rest) = rest.split_first()?;
        if !is_space(sep) {
            return None;
        }
        let slot = match key {
            b'=' => &mut self.base,
            b'0'..=b'9' => self.vars.get_mut(usize::from(key - b'0'))?,
            _ => return None,
        };
        let text = trim_start(rest);
        if text.is_empty() {
            return Some(false);
        }
        if slot.is_none() {
            *slot = Some(text.into());
        }
        Some(true)
    }
}

pub(crate) fn is_space(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

pub(crate) fn trim_start(s: &[u8]) -> &[u8] {
    let n = s.iter().take_while(|&&b| is_space(b)).count();
    s.get(n..).unwrap_or_default()
}

/// Parses an address the way rbldnsd's `ip4addr` (inet_aton) does: `2` is
/// 0.0.0.2, `127.2` is 127.0.0.2, `1.2.3` is 1.2.0.3. Returns the address,
/// the number of octets given times 8, and the rest of the input.
fn parse_a(s: &[u8]) -> Option<(u32, u32, &[u8])> {
    let mut parts = [0u32; 4];
    let mut n = 0usize;
    let mut i = 0usize;
    loop {
        let start = i;
        let mut v: u32 = 0;
        while let Some(d) = s.get(i).filter(|b| b.is_ascii_digit()) {
            v = v * 10 + u32::from(d - b'0');
            if v > 255 {
                return None;
            }
            i += 1;
        }
        if i == start {
            return None;
        }
        *parts.get_mut(n)? = v;
        n += 1;
        if n == 4 || s.get(i) != Some(&b'.') {
            break;
        }
        i += 1;
    }
    let [p0, p1, p2, p3] = parts;
    let a = match n {
        1 => p0,
        2 => (p0 << 24) | p1,
        3 => (p0 << 24) | (p1 << 16) | p2,
        _ => (p0 << 24) | (p1 << 16) | (p2 << 8) | p3,
    };
    Some((
        a,
        u32::try_from(n).ok()? * 8,
        s.get(i..).unwrap_or_default(),
    ))
}

/// Parses a value (what follows an entry, or a `:` default line) against the
/// current default, as rbldnsd's `parse_a_txt`:
///
/// * `:127.0.0.5:text` or `:5:text` sets A and TXT (`:5` means 127.0.0.5);
/// * `:5` alone sets A and keeps the default TXT; `:5:` sets A and no TXT;
/// * `text` keeps the default A and sets the TXT template.
pub(crate) fn parse_value(s: &[u8], default: &Value) -> Result<Value, &'static str> {
    let (a, txt) = if let Some(rest) = s.strip_prefix(b":") {
        let Some((mut a, bits, rest)) = parse_a(rest) else {
            return Err("invalid A RR");
        };
        if a == 0 {
            return Err("invalid A RR");
        }
        if bits == 8 {
            a |= 0x7f00_0000; // only the last digit of 127.0.0.x
        }
        let rest = trim_start(rest);
        match rest.split_first() {
            Some((b':', t)) => (a.to_be_bytes(), trim_start(t)),
            Some(_) => return Err("unrecognized value for an entry"),
            None => (a.to_be_bytes(), &default.txt[..]),
        }
    } else {
        (default.a, s)
    };
    let txt = txt.get(..MAX_TEMPLATE).unwrap_or(txt);
    Ok(Value { a, txt: txt.into() })
}

/// Expands a TXT template for one answer into `out` (cleared first), as
/// rbldnsd's `txtsubst`: `$` is the listed subject (the queried address, or
/// the listed domain), `$$` a dollar sign, `$n` the substitution variable n
/// (kept as written when undefined), and with a base template `$=` the
/// entry's own text is placed where the base template says `$=`; an entry
/// text starting with `=` bypasses the base template. At most 254 bytes.
pub(crate) fn expand(template: &[u8], subject: &[u8], subst: &Subst, out: &mut Vec<u8>) {
    out.clear();
    let (mut txt, sx): (&[u8], &[u8]) = if let Some(t) = template.strip_prefix(b"=") {
        (t, t)
    } else if let Some(base) = subst.base.as_deref().filter(|b| !b.is_empty()) {
        (
            base,
            if template.is_empty() {
                subject
            } else {
                template
            },
        )
    } else {
        (template, template)
    };
    let push = |out: &mut Vec<u8>, s: &[u8]| {
        let room = MAX_TXT.saturating_sub(out.len());
        out.extend_from_slice(s.get(..room).unwrap_or(s));
    };
    loop {
        let Some(pos) = txt.iter().position(|&b| b == b'$') else {
            push(out, txt);
            break;
        };
        push(out, txt.get(..pos).unwrap_or_default());
        let after = txt.get(pos + 1..).unwrap_or_default();
        match after.first() {
            Some(b'$') => {
                push(out, b"$");
                txt = after.get(1..).unwrap_or_default();
            }
            Some(&d @ b'0'..=b'9') => {
                match subst
                    .vars
                    .get(usize::from(d - b'0'))
                    .and_then(|v| v.as_deref())
                {
                    Some(v) => push(out, v),
                    None => push(out, txt.get(pos..pos + 2).unwrap_or_default()),
                }
                txt = after.get(1..).unwrap_or_default();
            }
            Some(b'=') => {
                push(out, sx);
                txt = after.get(1..).unwrap_or_default();
            }
            _ => {
                push(out, subject);
                txt = after;
            }
        }
        if out.len() >= MAX_TXT {
            break;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str, d: &Value) -> Value {
        parse_value(s.as_bytes(), d).unwrap()
    }

    #[test]
    fn values_as_the_manual_lists_them() {
        // rbldnsd(8): ":127.0.0.2:IP address $ is listed" then
        // "127.0.0.5 will use specific A and default TXT" (:5),
        // "127.0.0.6 will use specific a and no TXT" (:6:),
        // "127.0.0.7 will use default A and specific TXT".
        let d = v(":127.0.0.2:IP address $ is listed", &Value::default());
        assert_eq!(d.a, [127, 0, 0, 2]);
        assert_eq!(&*d.txt, b"IP address $ is listed");
        let five = v(":5", &d);
        assert_eq!((five.a, &*five.txt), ([127, 0, 0, 5], &d.txt[..]));
        let six = v(":6:", &d);
        assert_eq!((six.a, six.txt.len()), ([127, 0, 0, 6], 0));
        let seven = v("IP address $ running an open relay", &d);
        assert_eq!(seven.a, [127, 0, 0, 2]);
        assert!(parse_value(b":0:x", &d).is_err());
        assert!(parse_value(b":2 x", &d).is_err());
        assert!(parse_value(b":300:x", &d).is_err());
    }

    #[test]
    fn substitution_as_the_manual_shows_it() {
        let mut s = Subst::default();
        assert_eq!(s.set(b"1 See http://www.example.com/bl"), Some(true));
        assert_eq!(s.set(b"2 for details"), Some(true));
        assert_eq!(s.set(b"2 ignored second assignment"), Some(true));
        let mut out = Vec::new();
        expand(b"$1/spammer/$ $2", b"127.0.0.2", &s, &mut out);
        assert_eq!(
            out,
            b"See http://www.example.com/bl/spammer/127.0.0.2 for details"
        );
        expand(
            b"This spammer wants some $$$$.  $1/$",
            b"127.0.0.4",
            &s,
            &mut out,
        );
        assert_eq!(
            out,
            b"This spammer wants some $$.  See http://www.example.com/bl/127.0.0.4"
        );
        expand(b"$7 undefined", b"x", &s, &mut out);
        assert_eq!(out, b"$7 undefined");
    }

    #[test]
    fn base_template_as_the_manual_shows_it() {
        let mut s = Subst::default();
        s.set(b"= See http://www.example.com/bl?$= ($) for details")
            .unwrap();
        let mut out = Vec::new();
        expand(b"r123", b"127.0.0.2", &s, &mut out);
        assert_eq!(
            out,
            b"See http://www.example.com/bl?r123 (127.0.0.2) for details"
        );
        expand(b"", b"127.0.0.3", &s, &mut out);
        assert_eq!(
            out,
            b"See http://www.example.com/bl?127.0.0.3 (127.0.0.3) for details"
        );
        expand(
            b"=See other blocklists for details about $",
            b"127.0.0.4",
            &s,
            &mut out,
        );
        assert_eq!(out, b"See other blocklists for details about 127.0.0.4");
    }

    #[test]
    fn long_text_is_cut_at_254_bytes() {
        let mut out = Vec::new();
        let t = vec![b'x'; 400];
        let val = parse_value(&t, &Value::default()).unwrap();
        assert_eq!(val.txt.len(), 255);
        expand(&val.txt, b"", &Subst::default(), &mut out);
        assert_eq!(out.len(), 254);
        expand(b"$$$$$$$$$$$$$$", &[b'y'; 300], &Subst::default(), &mut out);
        assert!(out.len() <= 254);
    }
}
