//! C2SP signed notes (c2sp.org/signed-note) with Ed25519, in the key and
//! signature encodings of Go's golang.org/x/mod/sumdb/note:
//!
//! * key ID = the first 4 bytes (big-endian) of
//!   `SHA-256(name || 0x0A || 0x01 || 32-byte public key)`;
//! * verifier key `NAME+KEYIDHEX+BASE64(0x01 || PUBKEY)`;
//! * private key `PRIVATE+KEY+NAME+KEYIDHEX+BASE64(0x01 || SEED)`;
//! * a note is its text (ending in a newline), a blank line, and lines
//!   `— NAME BASE64(KEYID || SIGNATURE)` (U+2014 em dash).
//!
//! The tests check the Go package's published example (`PeterNeumann`), so
//! a signature made here verifies with Go's `note.Open` and vice versa.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use ed25519_dalek::{Signer as _, SigningKey, Verifier as _, VerifyingKey};
use sha2::{Digest, Sha256};

use crate::error::{EvidenceError, Result};

const ALG_ED25519: u8 = 1;
const EM_DASH_PREFIX: &str = "\u{2014} ";
/// Most signatures a note may carry (the spec asks for at least 16).
const MAX_SIGNATURES: usize = 100;

/// The note key ID of an Ed25519 public key under `name`.
pub fn key_id(name: &str, public: &[u8; 32]) -> u32 {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update([b'\n', ALG_ED25519]);
    h.update(public);
    let d: [u8; 32] = h.finalize().into();
    let (id, _) = d.split_first_chunk::<4>().unwrap_or((&[0; 4], &[]));
    u32::from_be_bytes(*id)
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && !name.contains('+')
        && !name.chars().any(char::is_whitespace)
        && !name.chars().any(char::is_control)
}

/// A private signing key with its name.
pub struct NoteSigner {
    name: String,
    id: u32,
    key: SigningKey,
}

impl std::fmt::Debug for NoteSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the key itself.
        write!(f, "NoteSigner({}+{:08x})", self.name, self.id)
    }
}

impl NoteSigner {
    /// A new random key named `name`.
    pub fn generate(name: &str) -> Result<NoteSigner> {
        if !valid_name(name) {
            return Err(EvidenceError::malformed(
                "key name",
                0,
                "empty, or has a space or '+'",
            ));
        }
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).map_err(|e| EvidenceError::Random(e.to_string()))?;
        Ok(Self::from_seed(name, seed))
    }

    fn from_seed(name: &str, seed: [u8; 32]) -> NoteSigner {
        let key = SigningKey::from_bytes(&seed);
        let id = key_id(name, key.verifying_key().as_bytes());
        NoteSigner {
            name: name.to_string(),
            id,
            key,
        }
    }

    /// Parses `PRIVATE+KEY+NAME+KEYIDHEX+BASE64(0x01||SEED)`.
    pub fn parse(text: &str) -> Result<NoteSigner> {
        let bad = |r: &str| EvidenceError::malformed("private key", 0, r);
        let rest = text
            .trim_end_matches('\n')
            .strip_prefix("PRIVATE+KEY+")
            .ok_or_else(|| bad("does not start with PRIVATE+KEY+"))?;
        let (name, id, key) = split_key(rest).ok_or_else(|| bad("not NAME+KEYID+KEY"))?;
        let [alg, seed @ ..] = key.as_slice() else {
            return Err(bad("empty key"));
        };
        if *alg != ALG_ED25519 {
            return Err(bad("not an Ed25519 key"));
        }
        let seed: [u8; 32] = seed.try_into().map_err(|_| bad("seed is not 32 bytes"))?;
        let s = Self::from_seed(name, seed);
        if s.id != id {
            return Err(bad("key ID does not match the key"));
        }
        Ok(s)
    }

    /// The private key text (for the key file; never printed).
    pub fn private_key(&self) -> String {
        let mut k = vec![ALG_ED25519];
        k.extend_from_slice(self.key.as_bytes());
        format!(
            "PRIVATE+KEY+{}+{:08x}+{}",
            self.name,
            self.id,
            B64.encode(k)
        )
    }

    /// The key name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The key ID.
    pub fn key_id(&self) -> u32 {
        self.id
    }

    /// The verifier key `NAME+KEYIDHEX+BASE64(0x01||PUBKEY)`.
    pub fn verifier_key(&self) -> String {
        let mut k = vec![ALG_ED25519];
        k.extend_from_slice(self.key.verifying_key().as_bytes());
        format!("{}+{:08x}+{}", self.name, self.id, B64.encode(k))
    }

    /// Signs `text` (non-empty, ending in a newline) into a signed note.
    pub fn sign(&self, text: &str) -> Result<String> {
        check_text(text)?;
        let sig = self.key.sign(text.as_bytes());
        let mut raw = self.id.to_be_bytes().to_vec();
        raw.extend_from_slice(&sig.to_bytes());
        Ok(format!(
            "{text}\n{EM_DASH_PREFIX}{} {}\n",
            self.name,
            B64.encode(raw)
        ))
    }
}

fn check_text(text: &str) -> Result<()> {
    if !text.ends_with('\n') || text.len() < 2 {
        return Err(EvidenceError::malformed(
            "note",
            0,
            "text must end in a newline",
        ));
    }
    if text.chars().any(|c| c.is_control() && c != '\n') {
        return Err(EvidenceError::malformed(
            "note",
            0,
            "control character in the text",
        ));
    }
    Ok(())
}

/// `NAME+HEX8+BASE64` → parts, with the key decoded.
fn split_key(s: &str) -> Option<(&str, u32, Vec<u8>)> {
    let mut it = s.splitn(3, '+');
    let (name, id, key) = (it.next()?, it.next()?, it.next()?);
    if !valid_name(name) || id.len() != 8 || !id.bytes().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    let id = u32::from_str_radix(id, 16).ok()?;
    let key = B64.decode(key).ok()?;
    Some((name, id, key))
}

/// A verifier key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteVerifier {
    name: String,
    id: u32,
    key: VerifyingKey,
}

impl NoteVerifier {
    /// Parses `NAME+KEYIDHEX+BASE64(0x01||PUBKEY)` (Go's `note.NewVerifier`).
    pub fn parse(vkey: &str) -> Result<NoteVerifier> {
        let bad = |r: &str| EvidenceError::malformed("verifier key", 0, r);
        let (name, id, key) = split_key(vkey.trim()).ok_or_else(|| bad("not NAME+KEYID+KEY"))?;
        let [alg, public @ ..] = key.as_slice() else {
            return Err(bad("empty key"));
        };
        if *alg != ALG_ED25519 {
            return Err(bad("not an Ed25519 key"));
        }
        let public: [u8; 32] = public
            .try_into()
            .map_err(|_| bad("public key is not 32 bytes"))?;
        if key_id(name, &public) != id {
            return Err(bad("key ID does not match the key"));
        }
        let key = VerifyingKey::from_bytes(&public).map_err(|_| bad("not an Ed25519 point"))?;
        Ok(NoteVerifier {
            name: name.to_string(),
            id,
            key,
        })
    }

    /// The key name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// `name+keyid`.
    pub fn label(&self) -> String {
        format!("{}+{:08x}", self.name, self.id)
    }

    /// Opens a signed note: returns its text when a signature by this key
    /// verifies (signatures by other keys are ignored, a bad signature by
    /// this key rejects the note).
    pub fn open<'a>(&self, note: &'a str) -> Result<&'a str> {
        let (text, sigs) = split_note(note)?;
        let mut ok = false;
        for (name, raw) in sigs {
            let Some((id, sig)) = raw.split_first_chunk::<4>() else {
                continue;
            };
            if name != self.name || u32::from_be_bytes(*id) != self.id {
                continue;
            }
            let sig = ed25519_dalek::Signature::from_slice(sig)
                .map_err(|_| EvidenceError::BadSignature { key: self.label() })?;
            self.key
                .verify(text.as_bytes(), &sig)
                .map_err(|_| EvidenceError::BadSignature { key: self.label() })?;
            ok = true;
        }
        if ok {
            Ok(text)
        } else {
            Err(EvidenceError::NoTrustedSignature { key: self.label() })
        }
    }
}

/// A signature line of a note: key name and decoded bytes (key ID, signature).
pub type NoteSignature<'a> = (&'a str, Vec<u8>);

/// Splits a note into its text and its signatures (name, decoded bytes).
pub fn split_note(note: &str) -> Result<(&str, Vec<NoteSignature<'_>>)> {
    let bad = |r: &str| EvidenceError::malformed("signed note", 0, r);
    if note.chars().any(|c| c.is_control() && c != '\n') {
        return Err(bad("control character"));
    }
    if !note.ends_with('\n') {
        return Err(bad("no final newline"));
    }
    let split = note
        .rfind("\n\n")
        .ok_or_else(|| bad("no blank line before the signatures"))?;
    let text = note.get(..=split).unwrap_or_default();
    let sig_block = note.get(split + 2..).unwrap_or_default();
    check_text(text)?;
    let mut sigs = Vec::new();
    for line in sig_block.lines() {
        let rest = line
            .strip_prefix(EM_DASH_PREFIX)
            .ok_or_else(|| bad("signature line does not start with an em dash"))?;
        let (name, b64) = rest
            .split_once(' ')
            .ok_or_else(|| bad("signature line has no space"))?;
        if !valid_name(name) || b64.contains(' ') {
            return Err(bad("bad signature line"));
        }
        let raw = B64
            .decode(b64)
            .map_err(|_| bad("signature is not base64"))?;
        if raw.len() < 5 {
            return Err(bad("signature too short"));
        }
        sigs.push((name, raw));
        if sigs.len() > MAX_SIGNATURES {
            return Err(bad("too many signatures"));
        }
    }
    if sigs.is_empty() {
        return Err(bad("no signature"));
    }
    Ok((text, sigs))
}

#[cfg(test)]
mod tests {
    use super::*;

    // golang.org/x/mod/sumdb/note note_test.go.
    const VKEY: &str = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
    const SKEY: &str =
        "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
    const TEXT: &str = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
    const SIGNED: &str = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n\n\u{2014} PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";
    const ENOCH: &str = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop";

    #[test]
    fn go_note_vectors() {
        let s = NoteSigner::parse(SKEY).unwrap();
        assert_eq!(s.verifier_key(), VKEY);
        assert_eq!(s.private_key(), SKEY);
        assert_eq!(s.sign(TEXT).unwrap(), SIGNED);
        let v = NoteVerifier::parse(VKEY).unwrap();
        assert_eq!(v.open(SIGNED).unwrap(), TEXT);
        NoteVerifier::parse(ENOCH).unwrap();
        // Another key: no trusted signature.
        let e = NoteVerifier::parse(ENOCH)
            .unwrap()
            .open(SIGNED)
            .unwrap_err();
        assert!(matches!(e, EvidenceError::NoTrustedSignature { .. }), "{e}");
        // Altered text or signature: rejected.
        let altered = SIGNED.replace("cryptography", "cryptographY");
        assert!(matches!(
            v.open(&altered),
            Err(EvidenceError::BadSignature { .. })
        ));
        let badsig = SIGNED.replace("x08go/ZJ", "x08go/ZK");
        assert!(v.open(&badsig).is_err());
        // Go's manglings of the verifier key are refused.
        assert!(
            NoteVerifier::parse(
                "PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY=="
            )
            .is_err()
        );
        assert!(
            NoteVerifier::parse(
                "PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
            )
            .is_err()
        );
        assert!(
            NoteVerifier::parse(
                "PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
            )
            .is_err()
        );
        for bad in [
            TEXT.to_string(),
            format!("{TEXT}\n"),
            format!("\u{1}{SIGNED}"),
            format!("{SIGNED}Unexpected line.\n"),
        ] {
            assert!(v.open(&bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn generated_keys_sign_and_verify() {
        let s = NoteSigner::generate("depeer.local/test").unwrap();
        let v = NoteVerifier::parse(&s.verifier_key()).unwrap();
        let n = s.sign("hello\n").unwrap();
        assert_eq!(v.open(&n).unwrap(), "hello\n");
        let s2 = NoteSigner::parse(&s.private_key()).unwrap();
        assert_eq!(s2.verifier_key(), s.verifier_key());
        assert!(!format!("{s:?}").contains(&s.private_key()));
    }
}
