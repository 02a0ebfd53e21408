//! Shared test material: a fixed RSA key pair, a frozen clock and request builders.
//!
//! The key pair was generated once with `openssl genpkey -algorithm RSA -pkeyopt
//! rsa_keygen_bits:2048`; the expected signatures in `vectors.rs` were computed from it with
//! `openssl dgst -sha256 -sign`, independently of this code.

use std::time::{Duration, SystemTime};

use base64::{Engine, engine::general_purpose::STANDARD};
use http::{HeaderMap, HeaderName, HeaderValue, Method};
use url::Url;

use super::super::{
    ParsedSignature, PublicKey, RequestParts, SignatureError, SigningKey, parse_request, rfc9421, sign_request,
};

/// PKCS#8 private key of the fixed test pair.
pub const PRIVATE_PEM: &str = "\
-----BEGIN PRIVATE KEY-----\n\
MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC1EymgKBgftF8v\n\
JPDlASvH4y46rldUqGL55jvPyewk87i0X+J+ExCUmSCRssdqIgbgTMiDwlg4egTy\n\
wpgyej+Bl6GrKGj+bGQN3XLbu4UIWIJgC9SL2YoPchKSYKvCmCrTefc3BiJHVgiv\n\
Te95hGKVI8ZGTXhwk1ObpojmgsvCPxJh9xGhClz4VeI+W6sKlAaMx1FZoiGClElS\n\
Em+7q3KATohtny6qJ6GbN9ybv4U7hpCIa838O/xfa7glktzNAZRMHExgF3RydEZv\n\
+62xzeGfVOCqIqLfE+m8ZLvbLez5xMfpksK7AjzxbYJnSlA0zFeEn5Ys9cuSFZPh\n\
sjOK/1pHAgMBAAECggEABxACcXTkN/xaMrsJ9aH9j1Qnk0dbME9Js6iMuwE2XNya\n\
tC0B5wafAMTA4J3sqZGT22od71xZrN4+1NR33jl8F6Bj6wqY9G94LuhCbhqayOVh\n\
icB8X6CyV1biLY5oCfTTGst+M8m2oDn//bfC+DuMeCJckz+7S7IbXTikzKTbsK2h\n\
xmQyQkrStQlWVZFxsIDBMxG5RwmZ/xleGexLYPq2+Ez6GQPRvfz1v4lufDTZB6gv\n\
kgCn/wLN1RObtSNy6JeIomFi5IHgc+eJfiL+khbw5GL3jpB2i3vepg1FfSGGKNze\n\
VbuOQXRoIq94o6IxiKCjKVklIuycrIBQwLn2fZaV4QKBgQD6Y6GsAPfSCIpbzyuf\n\
9SLLGw+4hEh+34rhFfAZuRWlhJzu+HNZFh4NW+H7HAH4U8MAa3m48gVUkkCrVjNa\n\
XJTYJz2f+UfMxhCuWAGcd1nfrAVqx17jffOXfB0FG++CoQ8bczITf79pBZMIynUD\n\
jR/fJgzyqUQGTIX5Voa6NZb4JwKBgQC5IegI68LKPtvlWkMHgBdG+qWEwrNzIQW3\n\
BhjTK43G8HLqbgTRG4Uj9oIpYEsa+/j8o9u7cGLv/PZcAQPeGw18gd+qDwk+xYLR\n\
XK5VSdu/hKimUmV+2tEn+p39Lc7ejGrom+lXHXvJlHY+FGVIGXGR2+nFTt+yO10J\n\
MD7UzH7A4QKBgHRTOzX80SVb4GOc0Oika0Cu1tPjaQbAdfXySjS5HwxhmsMO3A/k\n\
TZvpNwiBT4z95RdZ1xgMIFvVAoRXLM5rOp9dQ60Bk9DXp8JHkqANdsyKT433B+dq\n\
iXO0LotEGja2+pzHHNmgPN3ewBuSa2B1/Puf4t4Ns1O103wuLbNu2C97AoGAEx2k\n\
Jt+pIlbxP7JdP3YDcUnKM3YjL10WiPpxL8TMg+EqDHjFuI295qO6dulBeAzSfcux\n\
kZ4eKSeWjJNyQcnLT7LdVGLvEnM0ece3HIlezly1SU8yubGAbT9cdtr3BFW9aD1J\n\
D7y0nnDc8LYMazBtYKEzdzMYt/+XMK6xnilrYSECgYEAthpSwPCmuT1So9jgY0EL\n\
x2xXrhlsrLn4cbUKvf5StvZrbgfYPTcA/gKSAAabNJgXgoG/579lcmzFCIIttuAb\n\
ZGr1Z48v4WZiHH59GtLSFXUwQeX/0sPfKDny8xIjL6LL6eaT06VxUkRV6PfL02Qt\n\
BDVgrG1qncFYL0eP2HstAik=\n\
-----END PRIVATE KEY-----\n\
";

/// Its public half, SubjectPublicKeyInfo.
pub const PUBLIC_PEM: &str = "\
-----BEGIN PUBLIC KEY-----\n\
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAtRMpoCgYH7RfLyTw5QEr\n\
x+MuOq5XVKhi+eY7z8nsJPO4tF/ifhMQlJkgkbLHaiIG4EzIg8JYOHoE8sKYMno/\n\
gZehqyho/mxkDd1y27uFCFiCYAvUi9mKD3ISkmCrwpgq03n3NwYiR1YIr03veYRi\n\
lSPGRk14cJNTm6aI5oLLwj8SYfcRoQpc+FXiPlurCpQGjMdRWaIhgpRJUhJvu6ty\n\
gE6IbZ8uqiehmzfcm7+FO4aQiGvN/Dv8X2u4JZLczQGUTBxMYBd0cnRGb/utsc3h\n\
n1TgqiKi3xPpvGS72y3s+cTH6ZLCuwI88W2CZ0pQNMxXhJ+WLPXLkhWT4bIziv9a\n\
RwIDAQAB\n\
-----END PUBLIC KEY-----\n\
";

/// The same public key, PKCS#1.
pub const PUBLIC_PKCS1_PEM: &str = "\
-----BEGIN RSA PUBLIC KEY-----\n\
MIIBCgKCAQEAtRMpoCgYH7RfLyTw5QErx+MuOq5XVKhi+eY7z8nsJPO4tF/ifhMQ\n\
lJkgkbLHaiIG4EzIg8JYOHoE8sKYMno/gZehqyho/mxkDd1y27uFCFiCYAvUi9mK\n\
D3ISkmCrwpgq03n3NwYiR1YIr03veYRilSPGRk14cJNTm6aI5oLLwj8SYfcRoQpc\n\
+FXiPlurCpQGjMdRWaIhgpRJUhJvu6tygE6IbZ8uqiehmzfcm7+FO4aQiGvN/Dv8\n\
X2u4JZLczQGUTBxMYBd0cnRGb/utsc3hn1TgqiKi3xPpvGS72y3s+cTH6ZLCuwI8\n\
8W2CZ0pQNMxXhJ+WLPXLkhWT4bIziv9aRwIDAQAB\n\
-----END RSA PUBLIC KEY-----\n\
";

/// RFC 9421 Appendix B.1.2 `test-key-rsa-pss`, public half.
pub const RFC9421_RSA_PSS_PEM: &str = "\
-----BEGIN PUBLIC KEY-----\n\
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAr4tmm3r20Wd/PbqvP1s2\n\
+QEtvpuRaV8Yq40gjUR8y2Rjxa6dpG2GXHbPfvMs8ct+Lh1GH45x28Rw3Ry53mm+\n\
oAXjyQ86OnDkZ5N8lYbggD4O3w6M6pAvLkhk95AndTrifbIFPNU8PPMO7OyrFAHq\n\
gDsznjPFmTOtCEcN2Z1FpWgchwuYLPL+Wokqltd11nqqzi+bJ9cvSKADYdUAAN5W\n\
Utzdpiy6LbTgSxP7ociU4Tn0g5I6aDZJ7A8Lzo0KSyZYoA485mqcO0GVAdVw9lq4\n\
aOT9v6d+nb4bnNkQVklLQ3fVAvJm+xdDOp9LCNCN48V2pnDOkFV6+U9nV5oyc6XI\n\
2wIDAQAB\n\
-----END PUBLIC KEY-----\n\
";

/// The key id the fixed pair is published under.
pub const KEY_ID: &str = "https://remote.example/users/alice#main-key";

/// The frozen clock: Tue, 14 Nov 2023 22:13:20 GMT.
pub const T0: u64 = 1_700_000_000;

/// A Follow, as a remote server would deliver it.
pub const FOLLOW: &str = r#"{"@context":"https://www.w3.org/ns/activitystreams","type":"Follow","actor":"https://remote.example/users/alice","object":"https://openhouse.example/users/bob"}"#;

/// The inbox and outbox the requests go to.
pub const INBOX: &str = "https://openhouse.example/users/bob/inbox";
pub const OUTBOX_PAGE: &str = "https://openhouse.example/users/bob/outbox?page=true";

pub const ACTIVITY_JSON: &str = "application/activity+json";

/// `T0 + secs` (or minus, for negative `secs`).
pub fn at(secs: i64) -> SystemTime {
    let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(T0);
    if secs >= 0 {
        t0 + Duration::from_secs(secs.unsigned_abs())
    } else {
        t0 - Duration::from_secs(secs.unsigned_abs())
    }
}

pub fn signing_key() -> SigningKey {
    SigningKey::from_pkcs8_pem(Url::parse(KEY_ID).unwrap(), PRIVATE_PEM).unwrap()
}

pub fn public_key() -> PublicKey {
    PublicKey::from_pem(PUBLIC_PEM).unwrap()
}

/// An incoming request as the inbox would see it.
#[derive(Clone, Debug)]
pub struct Req {
    pub method: Method,
    pub authority: String,
    pub target: String,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Req {
    pub fn new(method: Method, url: &str, body: &[u8]) -> Self {
        let url = Url::parse(url).unwrap();
        let target = match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_owned(),
        };
        Self {
            method,
            authority: url.host_str().unwrap().to_owned(),
            target,
            headers: HeaderMap::new(),
            body: body.to_vec(),
        }
    }

    pub fn parts(&self) -> RequestParts<'_> {
        RequestParts {
            method: &self.method,
            scheme: "https",
            authority: &self.authority,
            path_and_query: &self.target,
            headers: &self.headers,
            body: &self.body,
        }
    }

    /// The key-less checks.
    pub fn parse(&self, now: SystemTime) -> Result<ParsedSignature, SignatureError> {
        parse_request(&self.parts(), now)
    }

    /// The key-less checks, then verification with the fixed public key.
    pub fn check(&self, now: SystemTime) -> Result<ParsedSignature, SignatureError> {
        let parsed = self.parse(now)?;
        parsed.verify(&public_key())?;
        Ok(parsed)
    }

    pub fn set(&mut self, name: &str, value: &str) -> &mut Self {
        self.headers.insert(HeaderName::from_bytes(name.as_bytes()).unwrap(), HeaderValue::from_str(value).unwrap());
        self
    }

    pub fn header(&self, name: &str) -> String {
        self.headers.get(name).unwrap().to_str().unwrap().to_owned()
    }

    /// Rewrites the `Signature` header with `f`.
    pub fn edit_signature(&mut self, f: impl FnOnce(String) -> String) -> &mut Self {
        let edited = f(self.header("signature"));
        self.set("signature", &edited)
    }
}

/// A Follow POSTed to the inbox, signed by our signer at `when`.
pub fn signed_post(when: SystemTime) -> Req {
    let mut req = Req::new(Method::POST, INBOX, FOLLOW.as_bytes());
    req.set("content-type", ACTIVITY_JSON);
    let url = Url::parse(INBOX).unwrap();
    sign_request(&signing_key(), &req.method, &url, &mut req.headers, Some(&req.body), when).unwrap();
    req
}

/// A GET of an outbox page, signed by our signer at `when`.
pub fn signed_get(when: SystemTime) -> Req {
    let mut req = Req::new(Method::GET, OUTBOX_PAGE, b"");
    req.set("accept", ACTIVITY_JSON);
    let url = Url::parse(OUTBOX_PAGE).unwrap();
    sign_request(&signing_key(), &req.method, &url, &mut req.headers, None, when).unwrap();
    req
}

/// `Content-Digest` of a body, SHA-256.
pub fn content_digest(body: &[u8]) -> String {
    let hash = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, body);
    format!("sha-256=:{}:", STANDARD.encode(hash))
}

/// Signs `req` with RFC 9421: `Signature-Input: sig1=<input>` and a real signature from the
/// fixed key over the base this code builds (the base itself is checked by `vectors.rs`).
/// When the base cannot be built the placeholder signature stays, for tests of refusals.
pub fn sign_rfc9421(req: &mut Req, input: &str) {
    req.set("signature-input", &format!("sig1={input}"));
    req.set("signature", "sig1=:AAAA:");
    let candidates = rfc9421::parse(&req.parts()).unwrap();
    if let Some(Ok(candidate)) = candidates.into_iter().next() {
        let signature = signing_key().sign_bytes(&candidate.signing_string).unwrap();
        req.set("signature", &format!("sig1=:{}:", STANDARD.encode(signature)));
    }
}

/// A Follow POSTed to the inbox with RFC 9421 covering `components`, `created` = `when`
/// and extra `params` (e.g. `;expires=…`).
pub fn rfc9421_post(when: SystemTime, components: &str, params: &str) -> Req {
    let mut req = Req::new(Method::POST, INBOX, FOLLOW.as_bytes());
    req.set("content-type", ACTIVITY_JSON);
    req.set("content-digest", &content_digest(FOLLOW.as_bytes()));
    req.set("date", &httpdate::fmt_http_date(when));
    let created = when.duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs();
    sign_rfc9421(&mut req, &format!(r#"({components});created={created};keyid="{KEY_ID}"{params}"#));
    req
}

/// The components Mastodon signs with RFC 9421 for a POST.
pub const MASTODON_POST: &str = r#""@method" "@target-uri" "content-digest""#;
