//! The development PKI (cargo feature `dev-pki`): a throw-away certificate authority made with
//! rcgen, for tests, demos and a `dev-certs` command. Never for production.

use std::fmt;
use std::fs;
use std::io::{self, Write as _};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, SanType,
};
use rustls::{ClientConfig, ServerConfig};

use super::{TlsError, TlsFiles, client_config, server_config};

/// Validity window of a [`DevPki`] certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Validity {
    /// From an hour ago (clock skew) to a year from now.
    #[default]
    Default,
    /// From an hour ago to `n` days from now.
    Days(u32),
    /// Expired: from two days ago to one day ago (tests).
    Expired,
    /// Not valid yet: from one day ahead to two days ahead (tests).
    NotYetValid,
}

/// A development certificate authority (rcgen, ECDSA P-256). Never for production: the CA key
/// lives only in memory and is not written anywhere.
#[derive(Debug)]
pub struct DevPki {
    /// The CA certificate, PEM: the trust anchor for every identity issued.
    pub ca_pem: String,
    issuer: Issuer<'static, KeyPair>,
}

/// A certificate and its private key, PEM.
#[derive(Clone)]
pub struct Identity {
    /// The certificate (leaf only; the CA is the trust anchor).
    pub cert_pem: String,
    /// The private key, PKCS#8.
    pub key_pem: String,
}

impl fmt::Debug for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Identity")
            .field("cert_pem", &self.cert_pem)
            .field("key_pem", &"<redacted>")
            .finish()
    }
}

impl DevPki {
    /// Creates a CA whose subject common name is `name`, valid from an hour ago for ten years.
    pub fn new(name: &str) -> Result<Self, TlsError> {
        let key = KeyPair::generate()?;
        let mut params = CertificateParams::default();
        params.distinguished_name = common_name_dn(name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let now = since_epoch();
        params.not_before = rcgen::date_time_ymd(1970, 1, 1) + now.saturating_sub(HOUR);
        params.not_after = rcgen::date_time_ymd(1970, 1, 1) + now + 3653 * DAY;
        let cert = params.self_signed(&key)?;
        Ok(Self {
            ca_pem: cert.pem(),
            issuer: Issuer::new(params, key),
        })
    }

    /// Issues a certificate for `common_name` with the given subjectAltNames, usable as both a
    /// server and a client identity (extended key usages serverAuth and clientAuth).
    pub fn issue(
        &self,
        common_name: &str,
        dns_names: &[&str],
        ips: &[IpAddr],
        validity: Validity,
    ) -> Result<Identity, TlsError> {
        let key = KeyPair::generate()?;
        let mut params = CertificateParams::default();
        params.distinguished_name = common_name_dn(common_name);
        params.subject_alt_names = dns_names
            .iter()
            .map(|name| Ok(SanType::DnsName((*name).try_into()?)))
            .chain(ips.iter().map(|ip| Ok(SanType::IpAddress(*ip))))
            .collect::<Result<_, rcgen::Error>>()?;
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![
            ExtendedKeyUsagePurpose::ServerAuth,
            ExtendedKeyUsagePurpose::ClientAuth,
        ];
        params.use_authority_key_identifier_extension = true;
        let now = since_epoch();
        let (not_before, not_after) = match validity {
            Validity::Default => (now.saturating_sub(HOUR), now + 365 * DAY),
            Validity::Days(days) => (now.saturating_sub(HOUR), now + days * DAY),
            Validity::Expired => (now.saturating_sub(2 * DAY), now.saturating_sub(DAY)),
            Validity::NotYetValid => (now + DAY, now + 2 * DAY),
        };
        params.not_before = rcgen::date_time_ymd(1970, 1, 1) + not_before;
        params.not_after = rcgen::date_time_ymd(1970, 1, 1) + not_after;
        let cert = params.signed_by(&key, &self.issuer)?;
        Ok(Identity {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
        })
    }

    /// [`server_config`] for an identity issued by this CA, trusting only this CA.
    pub fn server_config(&self, identity: &Identity) -> Result<Arc<ServerConfig>, TlsError> {
        server_config(
            self.ca_pem.as_bytes(),
            identity.cert_pem.as_bytes(),
            identity.key_pem.as_bytes(),
        )
    }

    /// [`client_config`] for an identity issued by this CA, trusting only this CA.
    pub fn client_config(&self, identity: &Identity) -> Result<Arc<ClientConfig>, TlsError> {
        client_config(
            self.ca_pem.as_bytes(),
            identity.cert_pem.as_bytes(),
            identity.key_pem.as_bytes(),
        )
    }

    /// Writes `ca.pem` and, for each name, `<name>.pem` and `<name>.key` (mode 0600 on unix)
    /// into `dir` (created if missing), returning the files of each identity in order.
    ///
    /// Each identity has common name `<name>`, DNS names `<name>` and `localhost`, IP addresses
    /// 127.0.0.1 and ::1 (so single-host demos work) and [`Validity::Default`]. Names are
    /// restricted to letters, digits, `.`, `-`, `_` (not starting with `.`, not `ca`).
    pub fn write_to(&self, dir: &Path, names: &[&str]) -> Result<Vec<TlsFiles>, TlsError> {
        if let Some(bad) = names.iter().find(|name| !valid_file_stem(name)) {
            return Err(TlsError::InvalidName {
                name: (*bad).to_owned(),
            });
        }
        fs::create_dir_all(dir).map_err(|source| TlsError::Write {
            path: dir.to_owned(),
            source,
        })?;
        let ca = dir.join("ca.pem");
        write_file(&ca, self.ca_pem.as_bytes(), false)?;
        let loopback = [
            IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(Ipv6Addr::LOCALHOST),
        ];
        names
            .iter()
            .map(|name| -> Result<TlsFiles, TlsError> {
                let identity =
                    self.issue(name, &[*name, "localhost"], &loopback, Validity::Default)?;
                let files = TlsFiles {
                    ca: ca.clone(),
                    cert: dir.join(format!("{name}.pem")),
                    key: dir.join(format!("{name}.key")),
                };
                write_file(&files.key, identity.key_pem.as_bytes(), true)?;
                write_file(&files.cert, identity.cert_pem.as_bytes(), false)?;
                Ok(files)
            })
            .collect()
    }
}

const HOUR: Duration = Duration::from_secs(3600);
const DAY: Duration = Duration::from_secs(86_400);

fn since_epoch() -> Duration {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
}

fn common_name_dn(name: &str) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, name);
    dn
}

fn valid_file_stem(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('.')
        && name != "ca"
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
}

/// Writes a file; `secret` files are created (or narrowed) to mode 0600 before any byte is
/// written.
fn write_file(path: &Path, contents: &[u8], secret: bool) -> Result<(), TlsError> {
    let write = || -> io::Result<()> {
        let mut options = fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        if secret {
            use std::os::unix::fs::OpenOptionsExt as _;
            options.mode(0o600);
        }
        let mut file = options.open(path)?;
        #[cfg(unix)]
        if secret {
            use std::os::unix::fs::PermissionsExt as _;
            file.set_permissions(fs::Permissions::from_mode(0o600))?;
        }
        #[cfg(not(unix))]
        let _ = secret;
        file.write_all(contents)?;
        file.sync_all()
    };
    write().map_err(|source| TlsError::Write {
        path: path.to_owned(),
        source,
    })
}
