//! What a scheduled job (Lambda, ECS task) fetches before it starts: the config from an
//! `s3://` URI, and the SMTP login from AWS Secrets Manager (`IAM_AUDITOR_SMTP_SECRET_ARN`,
//! a secret whose SecretString is `{"username": "…", "password": "…"}`). The secret's values
//! never reach a log or a message.

use crate::aws_sdk::error_text;

/// Environment variable naming the Secrets Manager secret with the SMTP login.
pub const SMTP_SECRET_ENV: &str = "IAM_AUDITOR_SMTP_SECRET_ARN";
/// `true`: address S3 by path (`http://host/bucket/key`), as emulators need.
pub const S3_PATH_STYLE_ENV: &str = "IAM_AUDITOR_S3_PATH_STYLE";

/// The bytes of `s3://BUCKET/KEY`.
pub fn read_s3_object(uri: &str) -> Result<Vec<u8>, String> {
    let (bucket, key) = uri
        .strip_prefix("s3://")
        .and_then(|rest| rest.split_once('/'))
        .filter(|(bucket, key)| !bucket.is_empty() && !key.is_empty())
        .ok_or_else(|| format!("{uri:?} is not an S3 object location: write s3://BUCKET/KEY"))?;
    let (runtime, shared) = crate::aws_sdk::blocking(5)?;
    let path_style = std::env::var(S3_PATH_STYLE_ENV).is_ok_and(|v| v == "true" || v == "1");
    let client = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&shared).force_path_style(path_style).build(),
    );
    runtime.block_on(async {
        let object = client.get_object().bucket(bucket).key(key).send().await.map_err(|e| {
            format!("cannot read {uri}: {} (the job's role needs s3:GetObject on it)", error_text(&e))
        })?;
        let bytes = object.body.collect().await.map_err(|e| format!("cannot read {uri}: {e}"))?;
        Ok(bytes.into_bytes().to_vec())
    })
}

/// The SMTP user name and password held by the secret `secret_id` (ARN or name).
pub fn read_smtp_secret(secret_id: &str) -> Result<(String, String), String> {
    let (runtime, shared) = crate::aws_sdk::blocking(5)?;
    let client = aws_sdk_secretsmanager::Client::new(&shared);
    let value = runtime.block_on(client.get_secret_value().secret_id(secret_id).send()).map_err(|e| {
        format!(
            "cannot read the SMTP secret {secret_id} (named by {SMTP_SECRET_ENV}): {} \
                 (the job's role needs secretsmanager:GetSecretValue on it)",
            error_text(&e)
        )
    })?;
    parse_smtp_secret(value.secret_string().unwrap_or_default())
        .map_err(|problem| format!("the SMTP secret {secret_id} (named by {SMTP_SECRET_ENV}): {problem}"))
}

/// `{"username": "…", "password": "…"}`; the error never repeats the secret's text.
fn parse_smtp_secret(text: &str) -> Result<(String, String), String> {
    #[derive(serde::Deserialize)]
    struct Login {
        username: String,
        password: String,
    }
    let login: Login = serde_json::from_str(text).map_err(|_| {
        "its SecretString is not JSON with string fields \"username\" and \"password\"; set it with \
         `aws secretsmanager put-secret-value --secret-id … --secret-string file://login.json`"
            .to_string()
    })?;
    if login.username.is_empty() || login.password.is_empty() {
        return Err("its username or password is empty".into());
    }
    Ok((login.username, login.password))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_secret_is_a_json_login_and_errors_never_echo_it() {
        assert_eq!(
            parse_smtp_secret(r#"{"username": "iam-audit", "password": "s3cr3t!"}"#),
            Ok(("iam-audit".to_string(), "s3cr3t!".to_string()))
        );
        let error = parse_smtp_secret("hunter2-plain-text").unwrap_err();
        assert!(!error.contains("hunter2"), "{error}");
        assert!(parse_smtp_secret(r#"{"username": "", "password": "x"}"#).is_err());
    }

    #[test]
    fn s3_locations_need_a_bucket_and_a_key() {
        for bad in ["s3://bucket", "s3:///key", "https://bucket/key", "s3://bucket/"] {
            assert!(read_s3_object(bad).unwrap_err().contains("not an S3 object location"), "{bad}");
        }
    }
}
