//! Text of `.dbf` files in the encodings Vietnamese offices still use: UTF-8, the Windows code
//! pages 1258 (Vietnamese) and 1252, and the font encodings TCVN3 (ABC, TCVN 5712:1993) and
//! VNI-Windows, converted to Unicode NFC.
//!
//! TCVN3 maps one byte to one letter ([`TCVN3_HIGH`]: glibc's TCVN5712-1 table, the tests compare
//! every byte with `iconv`); its fonts have no upper-case toned letters (offices switch to an
//! upper-case font that shows the lower-case codes in capitals), so such text comes out in lower
//! case. VNI writes a base letter followed by one byte for its marks ("Vieät" for "Việt").
//!
//! A `.cpg` names the encoding when it says UTF-8 or 1258; 1252 (or no `.cpg`) is what TCVN3 and
//! VNI files carry too, so then [`detect`] decodes the text every way and keeps the decoding
//! whose words are Vietnamese: only Vietnamese letters, at most one tone mark on a vowel per
//! word, and most words syllables of the national place names ([`syllables.txt`]).

use std::collections::HashSet;
use std::fmt;
use std::sync::OnceLock;

use unicode_normalization::UnicodeNormalization;

/// A text encoding of `.dbf` character fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TextEncoding {
    /// UTF-8.
    Utf8,
    /// Windows-1258 (Vietnamese, with combining tone marks).
    Cp1258,
    /// Windows-1252 (Western European).
    Cp1252,
    /// TCVN3 / ABC (TCVN 5712:1993 VN3).
    Tcvn3,
    /// VNI-Windows.
    Vni,
}

impl fmt::Display for TextEncoding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Utf8 => "UTF-8",
            Self::Cp1258 => "Windows-1258",
            Self::Cp1252 => "Windows-1252",
            Self::Tcvn3 => "TCVN3",
            Self::Vni => "VNI",
        })
    }
}

impl TextEncoding {
    /// Every encoding, in the order [`detect`] prefers them on a tie.
    pub const ALL: [Self; 5] = [
        Self::Utf8,
        Self::Cp1258,
        Self::Tcvn3,
        Self::Vni,
        Self::Cp1252,
    ];

    /// The encoding a user names (`--encoding`) or a `.cpg` holds; `None` when unknown.
    #[must_use]
    pub fn from_label(label: &str) -> Option<Self> {
        let l: String = label
            .trim()
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .collect::<String>()
            .to_ascii_lowercase();
        Some(match l.as_str() {
            "utf8" | "65001" | "unicode" => Self::Utf8,
            "1258" | "cp1258" | "windows1258" | "ansi1258" => Self::Cp1258,
            "1252" | "cp1252" | "windows1252" | "ansi1252" | "latin1" | "iso88591" => Self::Cp1252,
            "tcvn3" | "tcvn" | "abc" | "tcvn5712" | "vn3" => Self::Tcvn3,
            "vni" | "vniwindows" | "vniwin" => Self::Vni,
            _ => return None,
        })
    }

    /// Decodes `bytes` to NFC text; `None` when they are not text of this encoding (invalid
    /// UTF-8, or bytes the encoding leaves undefined).
    #[must_use]
    pub fn decode(self, bytes: &[u8]) -> Option<String> {
        let raw: String = match self {
            Self::Utf8 => std::str::from_utf8(bytes).ok()?.to_owned(),
            Self::Cp1258 | Self::Cp1252 => {
                let enc = if self == Self::Cp1258 {
                    encoding_rs::WINDOWS_1258
                } else {
                    encoding_rs::WINDOWS_1252
                };
                let (text, had_errors) = enc.decode_without_bom_handling(bytes);
                if had_errors {
                    return None;
                }
                text.into_owned()
            }
            Self::Tcvn3 => bytes.iter().map(|&b| tcvn3_char(b)).collect(),
            Self::Vni => vni(bytes)?,
        };
        Some(raw.nfc().collect())
    }
}

/// TCVN3 (with the VN1 upper-case letters) for bytes 0x80–0xFF, from glibc's TCVN5712-1.
pub const TCVN3_HIGH: [char; 128] = [
    '\u{00C0}', '\u{1EA2}', '\u{00C3}', '\u{00C1}', '\u{1EA0}', '\u{1EB6}', '\u{1EAC}', '\u{00C8}',
    '\u{1EBA}', '\u{1EBC}', '\u{00C9}', '\u{1EB8}', '\u{1EC6}', '\u{00CC}', '\u{1EC8}', '\u{0128}',
    '\u{00CD}', '\u{1ECA}', '\u{00D2}', '\u{1ECE}', '\u{00D5}', '\u{00D3}', '\u{1ECC}', '\u{1ED8}',
    '\u{1EDC}', '\u{1EDE}', '\u{1EE0}', '\u{1EDA}', '\u{1EE2}', '\u{00D9}', '\u{1EE6}', '\u{0168}',
    '\u{00A0}', '\u{0102}', '\u{00C2}', '\u{00CA}', '\u{00D4}', '\u{01A0}', '\u{01AF}', '\u{0110}',
    '\u{0103}', '\u{00E2}', '\u{00EA}', '\u{00F4}', '\u{01A1}', '\u{01B0}', '\u{0111}', '\u{1EB0}',
    '\u{0300}', '\u{0309}', '\u{0303}', '\u{0301}', '\u{0323}', '\u{00E0}', '\u{1EA3}', '\u{00E3}',
    '\u{00E1}', '\u{1EA1}', '\u{1EB2}', '\u{1EB1}', '\u{1EB3}', '\u{1EB5}', '\u{1EAF}', '\u{1EB4}',
    '\u{1EAE}', '\u{1EA6}', '\u{1EA8}', '\u{1EAA}', '\u{1EA4}', '\u{1EC0}', '\u{1EB7}', '\u{1EA7}',
    '\u{1EA9}', '\u{1EAB}', '\u{1EA5}', '\u{1EAD}', '\u{00E8}', '\u{1EC2}', '\u{1EBB}', '\u{1EBD}',
    '\u{00E9}', '\u{1EB9}', '\u{1EC1}', '\u{1EC3}', '\u{1EC5}', '\u{1EBF}', '\u{1EC7}', '\u{00EC}',
    '\u{1EC9}', '\u{1EC4}', '\u{1EBE}', '\u{1ED2}', '\u{0129}', '\u{00ED}', '\u{1ECB}', '\u{00F2}',
    '\u{1ED4}', '\u{1ECF}', '\u{00F5}', '\u{00F3}', '\u{1ECD}', '\u{1ED3}', '\u{1ED5}', '\u{1ED7}',
    '\u{1ED1}', '\u{1ED9}', '\u{1EDD}', '\u{1EDF}', '\u{1EE1}', '\u{1EDB}', '\u{1EE3}', '\u{00F9}',
    '\u{1ED6}', '\u{1EE7}', '\u{0169}', '\u{00FA}', '\u{1EE5}', '\u{1EEB}', '\u{1EED}', '\u{1EEF}',
    '\u{1EE9}', '\u{1EF1}', '\u{1EF3}', '\u{1EF7}', '\u{1EF9}', '\u{00FD}', '\u{1EF5}', '\u{1ED0}',
];

/// Upper-case toned letters VN1 puts among the control bytes.
const TCVN3_LOW: [(u8, char); 12] = [
    (0x01, '\u{00DA}'),
    (0x02, '\u{1EE4}'),
    (0x04, '\u{1EEA}'),
    (0x05, '\u{1EEC}'),
    (0x06, '\u{1EEE}'),
    (0x11, '\u{1EE8}'),
    (0x12, '\u{1EF0}'),
    (0x13, '\u{1EF2}'),
    (0x14, '\u{1EF6}'),
    (0x15, '\u{1EF8}'),
    (0x16, '\u{00DD}'),
    (0x17, '\u{1EF4}'),
];

fn tcvn3_char(b: u8) -> char {
    if b >= 0x80 {
        return TCVN3_HIGH[usize::from(b - 0x80)];
    }
    TCVN3_LOW
        .iter()
        .find(|(c, _)| *c == b)
        .map_or(char::from(b), |(_, ch)| *ch)
}

const ACUTE: char = '\u{0301}';
const GRAVE: char = '\u{0300}';
const HOOK: char = '\u{0309}';
const TILDE: char = '\u{0303}';
const DOT: char = '\u{0323}';
const CIRC: char = '\u{0302}';
const BREVE: char = '\u{0306}';

/// VNI-Windows: the marks a byte after a vowel stands for (lower- and upper-case forms).
fn vni_marks(b: u8) -> Option<&'static [char]> {
    Some(match b {
        0xF9 | 0xD9 => &[ACUTE],
        0xF8 | 0xD8 => &[GRAVE],
        0xFB | 0xDB => &[HOOK],
        0xF5 | 0xD5 => &[TILDE],
        0xEF | 0xCF => &[DOT],
        0xE2 | 0xC2 => &[CIRC],
        0xE1 | 0xC1 => &[CIRC, ACUTE],
        0xE0 | 0xC0 => &[CIRC, GRAVE],
        0xE5 | 0xC5 => &[CIRC, HOOK],
        0xE3 | 0xC3 => &[CIRC, TILDE],
        0xE4 | 0xC4 => &[CIRC, DOT],
        0xEA | 0xCA => &[BREVE],
        0xE9 | 0xC9 => &[BREVE, ACUTE],
        0xE8 | 0xC8 => &[BREVE, GRAVE],
        0xFA | 0xDA => &[BREVE, HOOK],
        0xFC | 0xDC => &[BREVE, TILDE],
        0xEB | 0xCB => &[BREVE, DOT],
        _ => return None,
    })
}

/// VNI-Windows: the letters one byte stands for.
fn vni_letter(b: u8) -> Option<char> {
    Some(match b {
        0xF4 => 'ơ',
        0xD4 => 'Ơ',
        0xF6 => 'ư',
        0xD6 => 'Ư',
        0xF1 => 'đ',
        0xD1 => 'Đ',
        0xED => 'í',
        0xCD => 'Í',
        0xEC => 'ì',
        0xCC => 'Ì',
        0xE6 => 'ỉ',
        0xC6 => 'Ỉ',
        0xF3 => 'ĩ',
        0xD3 => 'Ĩ',
        0xF2 => 'ị',
        0xD2 => 'Ị',
        0xEE => 'ỵ',
        0xCE => 'Ỵ',
        _ => return None,
    })
}

fn vni(bytes: &[u8]) -> Option<String> {
    let mut out = String::with_capacity(bytes.len() + 8);
    for &b in bytes {
        if b < 0x80 {
            out.push(char::from(b));
        } else if let Some(c) = vni_letter(b) {
            out.push(c);
        } else if let Some(marks) = vni_marks(b) {
            // Marks go on the vowel just before.
            let after_vowel = out.chars().last().is_some_and(|c| {
                let base = c.to_lowercase().nfd().next().unwrap_or(c);
                matches!(base, 'a' | 'e' | 'i' | 'o' | 'u' | 'y')
            });
            if !after_vowel {
                return None;
            }
            out.extend(marks);
        } else {
            return None;
        }
    }
    Some(out)
}

/// The syllables of the national place names, lowercase NFC.
fn syllables() -> &'static HashSet<&'static str> {
    static SET: OnceLock<HashSet<&'static str>> = OnceLock::new();
    SET.get_or_init(|| include_str!("syllables.txt").lines().collect())
}

/// How Vietnamese a decoded text looks: words with letters beyond ASCII, how many of them are
/// impossible Vietnamese, and how many are known syllables.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Score {
    /// Words with a letter beyond ASCII.
    pub words: usize,
    /// Of those, words that cannot be Vietnamese.
    pub impossible: usize,
    /// Of those, syllables of the national place names.
    pub known: usize,
}

impl std::ops::AddAssign for Score {
    fn add_assign(&mut self, o: Self) {
        self.words += o.words;
        self.impossible += o.impossible;
        self.known += o.known;
    }
}

/// Scores the words of `text` (NFC).
#[must_use]
pub fn score(text: &str) -> Score {
    let mut s = Score::default();
    for word in text.split(|c: char| !(c.is_alphabetic() || is_mark(c))) {
        if word.is_ascii() {
            continue;
        }
        s.words += 1;
        let lower = word.to_lowercase();
        if !possible_word(&lower) {
            s.impossible += 1;
        } else if syllables().contains(lower.as_str()) {
            s.known += 1;
        }
    }
    s
}

fn is_mark(c: char) -> bool {
    ('\u{0300}'..='\u{036F}').contains(&c)
}

/// A lowercase word that could be Vietnamese: letters a–z and đ, vowels with their marks
/// (circumflex on a/e/o, breve on a, horn on o/u), at most one tone mark, on a vowel.
fn possible_word(word: &str) -> bool {
    let mut tones = 0;
    let mut base = ' ';
    for c in word.nfd() {
        match c {
            'a'..='z' | 'đ' => base = c,
            '\u{0300}' | '\u{0301}' | '\u{0303}' | '\u{0309}' | '\u{0323}' => {
                tones += 1;
                if tones > 1 || !matches!(base, 'a' | 'e' | 'i' | 'o' | 'u' | 'y') {
                    return false;
                }
            }
            '\u{0302}' if matches!(base, 'a' | 'e' | 'o') => {}
            '\u{0306}' if base == 'a' => {}
            '\u{031B}' if matches!(base, 'o' | 'u') => {}
            _ => return false,
        }
    }
    true
}

/// What [`detect`] found.
#[derive(Debug, Clone, PartialEq)]
pub struct Detected {
    /// The encoding chosen.
    pub encoding: TextEncoding,
    /// Its score over all text.
    pub score: Score,
}

/// Picks the encoding of `texts` (the raw bytes of character fields) among `candidates`: the
/// decoding with no impossible word and the most known syllables (ties: the earlier candidate).
/// Pure ASCII is UTF-8.
///
/// # Errors
/// When no candidate decodes every text into possible Vietnamese with at least half its words
/// known syllables: the best attempt of each candidate, for the message.
pub fn detect<'a>(
    texts: impl Iterator<Item = &'a [u8]> + Clone,
    candidates: &[TextEncoding],
) -> Result<Detected, Vec<(TextEncoding, Option<Score>)>> {
    let mut tried = Vec::new();
    let mut best: Option<Detected> = None;
    for &enc in candidates {
        let mut total = Score::default();
        let mut ok = true;
        for t in texts.clone() {
            if t.is_ascii() {
                continue;
            }
            match enc.decode(t) {
                Some(s) => total += score(&s),
                None => {
                    ok = false;
                    break;
                }
            }
        }
        if !ok {
            tried.push((enc, None));
            continue;
        }
        tried.push((enc, Some(total)));
        if total.words == 0 {
            return Ok(Detected {
                encoding: TextEncoding::Utf8,
                score: total,
            });
        }
        let acceptable = total.impossible == 0 && 2 * total.known >= total.words;
        if acceptable && best.as_ref().is_none_or(|b| total.known > b.score.known) {
            best = Some(Detected {
                encoding: enc,
                score: total,
            });
        }
    }
    best.ok_or(tried)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Bytes written as Latin-1 characters (how TCVN3 and VNI text looks in a Western font).
    fn latin1(s: &str) -> Vec<u8> {
        s.chars()
            .map(|c| u8::try_from(u32::from(c)).unwrap())
            .collect()
    }

    #[test]
    fn tcvn3_decodes_hand_made_names() {
        // "Khu phè 1" is how "Khu phố 1" shows in a Western font.
        assert_eq!(
            TextEncoding::Tcvn3.decode(&latin1("Khu phè 1")).unwrap(),
            "Khu phố 1"
        );
        assert_eq!(
            TextEncoding::Tcvn3.decode(&latin1("B×nh §øc")).unwrap(),
            "Bình Đức"
        );
        assert_eq!(
            TextEncoding::Tcvn3
                .decode(&latin1("M\u{AD}êng Kh\u{AD}¬ng"))
                .unwrap(),
            "Mường Khương"
        );
        assert_eq!(
            TextEncoding::Tcvn3.decode(&latin1("ThuËn Giao")).unwrap(),
            "Thuận Giao"
        );
    }

    #[test]
    fn vni_decodes_hand_made_names() {
        assert_eq!(
            TextEncoding::Vni.decode(&latin1("Khu phoá 1")).unwrap(),
            "Khu phố 1"
        );
        assert_eq!(
            TextEncoding::Vni.decode(&latin1("AÁp Bình Ñöùc")).unwrap(),
            "Ấp Bình Đức"
        );
        assert_eq!(
            TextEncoding::Vni.decode(&latin1("Vieät Nam")).unwrap(),
            "Việt Nam"
        );
        assert_eq!(
            TextEncoding::Vni.decode(&latin1("Thuaän Giao")).unwrap(),
            "Thuận Giao"
        );
        assert_eq!(
            TextEncoding::Vni
                .decode(&latin1("Taân Ñoâng Hieäp"))
                .unwrap(),
            "Tân Đông Hiệp"
        );
        // A mark byte after a consonant is not VNI.
        assert_eq!(TextEncoding::Vni.decode(&latin1("Kùn")), None);
    }

    #[test]
    fn detection_tells_the_encodings_apart() {
        let names = [
            "Khu phố Bình Đức 1",
            "Ấp Tân Hiệp",
            "Tổ dân phố 12",
            "Khu phố Thuận Giao",
            "Dĩ An",
        ];
        type Encoder = fn(&str) -> Vec<u8>;
        let encoders: [(TextEncoding, Encoder); 3] = [
            (TextEncoding::Utf8, |s| s.as_bytes().to_vec()),
            (TextEncoding::Tcvn3, |s| {
                s.nfc()
                    .map(|c| {
                        if c.is_ascii() {
                            c as u8
                        } else {
                            0x80 + TCVN3_HIGH.iter().position(|&t| t == c).unwrap() as u8
                        }
                    })
                    .collect()
            }),
            (TextEncoding::Cp1258, |s| {
                // Windows-1258 has the letters with circumflex, breve and horn, and writes the
                // tone as a combining mark after them.
                let tones = ['\u{300}', '\u{301}', '\u{303}', '\u{309}', '\u{323}'];
                let mut text = String::new();
                for c in s.chars() {
                    let d: String = c.nfd().collect();
                    let base: String = d
                        .chars()
                        .filter(|c| !tones.contains(c))
                        .collect::<String>()
                        .nfc()
                        .collect();
                    text.push_str(&base);
                    text.extend(d.chars().filter(|c| tones.contains(c)));
                }
                let (bytes, _, bad) = encoding_rs::WINDOWS_1258.encode(&text);
                assert!(!bad);
                bytes.into_owned()
            }),
        ];
        for (enc, encode) in encoders {
            let raw: Vec<Vec<u8>> = names.iter().map(|n| encode(n)).collect();
            let d = detect(raw.iter().map(Vec::as_slice), &TextEncoding::ALL).unwrap();
            assert_eq!(d.encoding, enc, "{enc}: {d:?}");
            for (r, n) in raw.iter().zip(names) {
                assert_eq!(d.encoding.decode(r).unwrap(), n);
            }
        }
        let vni: Vec<Vec<u8>> = ["Khu phoá Bình Ñöùc 1", "AÁp Taân Hieäp", "Toå daân phoá 12"]
            .iter()
            .map(|s| latin1(s))
            .collect();
        let d = detect(vni.iter().map(Vec::as_slice), &TextEncoding::ALL).unwrap();
        assert_eq!(d.encoding, TextEncoding::Vni, "{d:?}");
        // Text that is no Vietnamese in any encoding is refused.
        let junk = [latin1("Straße Ærø Ålesund ¿¡ ÞÐ")];
        let tried = detect(junk.iter().map(Vec::as_slice), &TextEncoding::ALL).unwrap_err();
        assert_eq!(tried.len(), TextEncoding::ALL.len());
    }

    #[test]
    fn tcvn3_table_matches_glibc_iconv_for_every_byte() {
        // glibc's TCVN5712-1 converter is an independent reference on every Debian machine.
        let bytes: Vec<u8> = (0x80..=0xFF)
            .chain(TCVN3_LOW.iter().map(|(b, _)| *b))
            .collect();
        let mut child = std::process::Command::new("iconv")
            .args(["-f", "TCVN5712-1", "-t", "UTF-32BE"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("iconv (glibc) runs");
        use std::io::Write;
        child.stdin.take().unwrap().write_all(&bytes).unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success());
        let chars: Vec<char> = out
            .stdout
            .chunks(4)
            .map(|c| char::from_u32(u32::from_be_bytes([c[0], c[1], c[2], c[3]])).unwrap())
            .collect();
        assert_eq!(chars.len(), bytes.len());
        for (b, c) in bytes.iter().zip(chars) {
            assert_eq!(tcvn3_char(*b), c, "byte {b:#04x}");
        }
    }

    #[test]
    fn labels() {
        assert_eq!(TextEncoding::from_label("UTF-8"), Some(TextEncoding::Utf8));
        assert_eq!(
            TextEncoding::from_label(" 1258\n"),
            Some(TextEncoding::Cp1258)
        );
        assert_eq!(
            TextEncoding::from_label("ANSI 1252"),
            Some(TextEncoding::Cp1252)
        );
        assert_eq!(TextEncoding::from_label("TCVN3"), Some(TextEncoding::Tcvn3));
        assert_eq!(TextEncoding::from_label("koi8-r"), None);
    }
}
