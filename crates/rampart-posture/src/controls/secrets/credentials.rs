//! Recognizing credentials written into environment variables, by the
//! value's format or by the variable's name.

/// Words in a variable name that mark its value as a credential, compared
/// with the name's letters and digits only, upper-cased.
const CREDENTIAL_NAME_WORDS: &[&str] = &[
    "PASSWORD",
    "PASSWD",
    "PASSPHRASE",
    "SECRET",
    "TOKEN",
    "APIKEY",
    "ACCESSKEY",
    "PRIVATEKEY",
    "CREDENTIAL",
    "AUTHKEY",
    "CLIENTKEY",
    "CONNECTIONSTRING",
];

/// Short words that mark a credential only as a whole word of the name
/// (`DB_PASS`, `smtpPwd`), since as substrings they occur in other words
/// (`BYPASS`, `COMPASS`).
const CREDENTIAL_WHOLE_WORDS: &[&str] = &["PASS", "PWD"];

/// Last words of names that never hold a credential even when the name
/// contains a credential word (`PASSWORD_FILE`, `TOKEN_TTL`).
const NOT_CREDENTIAL_SUFFIXES: &[&str] =
    &["FILE", "PATH", "DIR", "NAME", "REF", "URL", "ID", "TTL"];

/// Words before a final `KEY` that make it a lookup key, not a secret one
/// (`PARTITION_KEY`, `PUBLIC_KEY`).
const NOT_SECRET_KEY_QUALIFIERS: &[&str] = &[
    "PUBLIC",
    "PUB",
    "SORT",
    "PARTITION",
    "PRIMARY",
    "FOREIGN",
    "CACHE",
    "ROUTING",
    "SHARD",
    "LOOKUP",
    "INDEX",
    "IDEMPOTENCY",
];

/// Values that configure a switch and so cannot be a credential, such as
/// `ENABLE_TOKEN_AUTH=true` or `TOKENIZERS_PARALLELISM=false`.
const SWITCH_VALUES: &[&str] = &[
    "true", "false", "yes", "no", "on", "off", "enabled", "disabled", "none", "null",
];

/// Returns why `name`/`value` looks like a credential, or `None`.
///
/// The value's format is checked first, so that a known credential format
/// (a private key, an access key, a token, a URL with a password) counts
/// whatever the variable is called. Otherwise the name decides, unless the
/// value is empty, a `$(VAR)` reference, a switch or an absolute file path.
pub(super) fn credential_reason(name: &str, value: &str) -> Option<&'static str> {
    let value = value.trim();
    if value.is_empty() || is_reference(value) {
        return None;
    }
    if let Some(format) = credential_format(value) {
        return Some(format);
    }
    if is_switch(value) || is_file_path(value) {
        return None;
    }
    credential_name(name).then_some("the name marks a credential")
}

/// Returns whether `name` marks its value as a credential.
fn credential_name(name: &str) -> bool {
    // The shell sets these two to directories, so they are no passwords.
    if name == "PWD" || name == "OLDPWD" {
        return false;
    }
    let words = name_words(name);
    let Some(last) = words.last() else {
        return false;
    };
    if NOT_CREDENTIAL_SUFFIXES.contains(&last.as_str()) {
        return false;
    }

    let letters: String = words.concat();
    if CREDENTIAL_NAME_WORDS
        .iter()
        .any(|word| letters.contains(word))
    {
        return true;
    }
    if words
        .iter()
        .any(|word| CREDENTIAL_WHOLE_WORDS.contains(&word.as_str()))
    {
        return true;
    }
    // A final KEY (`SIGNING_KEY`, `azure_batch_key`) names a secret key
    // unless the word before it makes it a lookup or public key.
    let qualifier = words
        .len()
        .checked_sub(2)
        .map(|index| words[index].as_str());
    last == "KEY" && !qualifier.is_some_and(|word| NOT_SECRET_KEY_QUALIFIERS.contains(&word))
}

/// Splits a variable name into upper-cased words at `_`, `-`, `.` and
/// lower-to-upper case changes (`dbPassword` is `DB`, `PASSWORD`).
fn name_words(name: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut current = String::new();
    let mut previous_lower = false;
    for c in name.chars() {
        let boundary = !c.is_ascii_alphanumeric() || (previous_lower && c.is_ascii_uppercase());
        if boundary && !current.is_empty() {
            words.push(std::mem::take(&mut current));
        }
        if c.is_ascii_alphanumeric() {
            current.push(c.to_ascii_uppercase());
        }
        previous_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
    }
    if !current.is_empty() {
        words.push(current);
    }
    words
}

/// Returns the credential format `value` contains, if any.
fn credential_format(value: &str) -> Option<&'static str> {
    if has_private_key(value) {
        return Some("the value contains a private key");
    }
    if has_url_password(value) {
        return Some("the value is a URL with a password");
    }
    if value
        .strip_prefix("Bearer ")
        .is_some_and(|token| token.trim().len() >= 16 && !token.contains(char::is_whitespace))
    {
        return Some("the value is a bearer token");
    }
    let has_token = value
        .split(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | ',' | ';' | '=' | '&'))
        .any(is_token);
    has_token.then_some("the value has the format of a credential")
}

/// Returns whether `value` contains a PEM private key block, such as
/// `-----BEGIN RSA PRIVATE KEY-----` or `-----BEGIN OPENSSH PRIVATE KEY-----`.
fn has_private_key(value: &str) -> bool {
    value.match_indices("-----BEGIN ").any(|(start, _)| {
        let label = &value[start + "-----BEGIN ".len()..];
        label
            .split_once("-----")
            .is_some_and(|(label, _)| label.ends_with("PRIVATE KEY") && !label.contains('\n'))
    })
}

/// Returns whether `value` is a URL whose user information carries a
/// password (`postgres://app:hunter2@db:5432/app`).
fn has_url_password(value: &str) -> bool {
    let Some((_, rest)) = value.split_once("://") else {
        return false;
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let Some((user_info, _host)) = authority.rsplit_once('@') else {
        return false;
    };
    user_info
        .split_once(':')
        .is_some_and(|(_, password)| !password.is_empty() && !is_reference(password))
}

/// Returns whether `word` has the format of a cloud or forge access key or
/// token: AWS access key ids, GitHub, GitLab, Slack, Stripe and Google API
/// keys, and JSON Web Tokens.
fn is_token(word: &str) -> bool {
    let rest_matches = |prefix: &str, min: usize, allowed: fn(u8) -> bool| {
        word.strip_prefix(prefix)
            .is_some_and(|rest| rest.len() >= min && rest.bytes().all(allowed))
    };
    let upper_alnum = |b: u8| b.is_ascii_uppercase() || b.is_ascii_digit();
    let alnum = |b: u8| b.is_ascii_alphanumeric();
    let url_safe = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_');

    let aws = ["AKIA", "ASIA"]
        .iter()
        .any(|prefix| word.len() == 20 && rest_matches(prefix, 16, upper_alnum));
    let github = ["ghp_", "gho_", "ghu_", "ghs_", "ghr_"]
        .iter()
        .any(|prefix| rest_matches(prefix, 36, alnum))
        || rest_matches("github_pat_", 22, url_safe);
    let gitlab = rest_matches("glpat-", 20, url_safe);
    let slack = ["xoxb-", "xoxa-", "xoxp-", "xoxr-", "xoxs-"]
        .iter()
        .any(|prefix| rest_matches(prefix, 10, url_safe));
    let stripe = ["sk_live_", "rk_live_"]
        .iter()
        .any(|prefix| rest_matches(prefix, 16, alnum));
    let google = word.len() == 39 && rest_matches("AIza", 35, url_safe);
    aws || github || gitlab || slack || stripe || google || is_jwt(word)
}

/// Returns whether `word` is a JSON Web Token: three base64url parts, the
/// first a JSON object (`eyJ` is the encoding of `{"`).
fn is_jwt(word: &str) -> bool {
    let parts: Vec<&str> = word.split('.').collect();
    let base64url = |part: &&str| {
        !part.is_empty()
            && part
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'='))
    };
    parts.len() == 3 && parts[0].starts_with("eyJ") && parts[..2].iter().all(base64url)
}

fn is_switch(value: &str) -> bool {
    SWITCH_VALUES
        .iter()
        .any(|switch| value.eq_ignore_ascii_case(switch))
}

/// Returns whether `value` is an absolute file path such as
/// `/etc/tls/tls.key`: a leading `/`, at least two segments, and only
/// the characters of file names.
///
/// NOTE: a base64 secret can have this shape too (it may start with `/`),
/// but only when it also lacks `+` and `=`, which this rejects.
fn is_file_path(value: &str) -> bool {
    let Some(rest) = value.strip_prefix('/') else {
        return false;
    };
    let segments: Vec<&str> = rest.split('/').collect();
    let file_name_chars = |segment: &&str| {
        !segment.is_empty()
            && segment
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
    };
    segments.len() >= 2 && segments.iter().all(file_name_chars)
}

/// Returns whether a value only refers to another variable (`$(VAR)` or
/// `${VAR}`), which puts no secret into the manifest.
fn is_reference(value: &str) -> bool {
    (value.starts_with("$(") && value.ends_with(')'))
        || (value.starts_with("${") && value.ends_with('}'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credential_names() {
        assert!(credential_reason("DB_PASSWORD", "hunter2").is_some());
        assert!(credential_reason("api-key", "abc").is_some());
        assert!(credential_reason("dbPassword", "abc").is_some());
        assert!(credential_reason("DB_PASS", "abc").is_some());
        assert!(credential_reason("pwd", "Hpwd").is_some());
        assert!(credential_reason("azure_batch_key", "abc").is_some());
        assert!(credential_reason("signingKey", "abc").is_some());

        assert!(credential_reason("PWD", "app").is_none());
        assert!(credential_reason("BYPASS", "1").is_none());
        assert!(credential_reason("PASSWORD_FILE", "/run/secrets/db").is_none());
        assert!(credential_reason("passwordFile", "db").is_none());
        assert!(credential_reason("TOKEN_TTL", "3600").is_none());
        assert!(credential_reason("PARTITION_KEY", "tenant").is_none());
        assert!(credential_reason("PUBLIC_KEY", "ssh-ed25519 AAAA").is_none());
        assert!(credential_reason("AWS_ACCESS_KEY_ID", "x").is_none());
        assert!(credential_reason("LOG_LEVEL", "debug").is_none());
    }

    #[test]
    fn credential_values_allowed() {
        assert!(credential_reason("DB_PASSWORD", "").is_none());
        assert!(credential_reason("DB_PASSWORD", "$(OTHER)").is_none());
        assert!(credential_reason("ENABLE_TOKEN_AUTH", "true").is_none());
        assert!(credential_reason("TOKENIZERS_PARALLELISM", "False").is_none());
        assert!(credential_reason("TLS_KEY", "/etc/tls/tls.key").is_none());
        assert!(credential_reason("DB_PASSWORD", "/x8Kd+9/abc=").is_some());
        assert!(credential_reason("DB_PASSWORD", "/").is_some());
    }

    #[test]
    fn credential_value_formats() {
        let pem = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3Blbn\n-----END OPENSSH PRIVATE KEY-----";
        assert!(credential_reason("CONFIG", pem).is_some());
        assert!(credential_reason("CONFIG", "-----BEGIN CERTIFICATE-----\nMII").is_none());
        assert!(credential_reason("CONFIG", "AKIAIOSFODNN7EXAMPLE").is_some());
        assert!(credential_reason("CONFIG", "AKIA").is_none());
        assert!(credential_reason("CONFIG", "AKIAIOSFODNN7EXAMPLE1").is_none());
        let github = format!("ghp_{}", "a1B2".repeat(9));
        assert!(credential_reason("CONFIG", &github).is_some());
        assert!(credential_reason("CONFIG", "postgres://app:hunter2@db:5432/app").is_some());
        assert!(credential_reason("DATABASE_URL", "postgres://app:s3cret@db/app").is_some());
        assert!(credential_reason("DATABASE_URL", "postgres://app@db/app").is_none());
        assert!(credential_reason("DATABASE_URL", "postgres://app:$(DB_PASSWORD)@db").is_none());
        assert!(credential_reason("AUTH", "Bearer abcdefghijklmnopqrstuvwxyz").is_some());
        assert!(credential_reason("AUTH_SCHEME", "Bearer").is_none());
        let jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl";
        assert!(credential_reason("CONFIG", jwt).is_some());
        assert!(credential_reason("some-name", "JWT").is_none());
        assert!(credential_reason("some-name", "my_key_value").is_none());
    }
}
