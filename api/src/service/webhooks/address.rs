//! Where a webhook may go. An endpoint is a hospital's public HTTPS server, never a way into
//! the registry's own network (SSRF): a host that resolves to a loopback, private, link-local
//! or otherwise non-public address is refused when the endpoint is registered, and again at
//! every delivery, by the resolver the delivery client connects through, so a name that
//! changes its address after registration (DNS rebinding) is refused too.

use std::net::{IpAddr, SocketAddr};

use reqwest::Url;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use crate::error::{AppError, AppResult};

/// Whether `ip` is on the public internet. IPv4-mapped IPv6 addresses are judged as IPv4.
#[must_use]
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_documentation()
                || v4.is_multicast()
                // Shared address space (carrier-grade NAT), and 0.0.0.0/8.
                || (a == 100 && (64..128).contains(&b))
                || a == 0)
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                // Unique local (fc00::/7) and link-local (fe80::/10).
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80)
        }
    }
}

/// Checks an endpoint URL as given: HTTPS, with a host, and no private address literal, unless
/// `private_allowed` (development and tests).
///
/// # Errors
/// BAD_USER_INPUT on `url`.
pub fn check_url(url: &str, private_allowed: bool) -> AppResult<Url> {
    let refused = |message: &str| AppError::invalid("url", message);
    if url.len() > 2000 {
        return Err(refused("must be at most 2000 characters"));
    }
    let parsed = Url::parse(url).map_err(|_| refused("must be an absolute URL"))?;
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(refused("must not carry credentials"));
    }
    match parsed.scheme() {
        "https" => {}
        "http" if private_allowed => {}
        _ => return Err(refused("must be an https:// URL")),
    }
    let host = parsed.host_str().ok_or_else(|| refused("must name a host"))?;
    let literal = host.trim_start_matches('[').trim_end_matches(']').parse::<IpAddr>().ok();
    if !private_allowed && (literal.is_some_and(|ip| !is_public(ip)) || host.eq_ignore_ascii_case("localhost")) {
        return Err(refused("must point at a public address"));
    }
    Ok(parsed)
}

/// Resolves `url`'s host now and refuses it if any address is not public.
///
/// # Errors
/// BAD_USER_INPUT on `url` when the host does not resolve or resolves to a private address.
pub async fn check_resolves(url: &Url, private_allowed: bool) -> AppResult<()> {
    if private_allowed {
        return Ok(());
    }
    let host = url.host_str().unwrap_or_default().trim_start_matches('[').trim_end_matches(']').to_owned();
    let port = url.port_or_known_default().unwrap_or(443);
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), port))
        .await
        .map_err(|_| AppError::invalid("url", "the host does not resolve"))?
        .collect();
    if addrs.is_empty() || addrs.iter().any(|addr| !is_public(addr.ip())) {
        return Err(AppError::invalid("url", "must point at a public address"));
    }
    Ok(())
}

/// The delivery client's resolver: the system's answer, with every non-public address refused.
#[derive(Clone, Copy, Debug)]
pub struct PublicOnly;

impl Resolve for PublicOnly {
    fn resolve(&self, name: Name) -> Resolving {
        Box::pin(async move {
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((name.as_str(), 0)).await?.collect();
            if addrs.is_empty() || addrs.iter().any(|addr| !is_public(addr.ip())) {
                return Err("the endpoint's host resolves to a non-public address".into());
            }
            let addrs: Addrs = Box::new(addrs.into_iter());
            Ok(addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::{check_url, is_public};

    #[test]
    fn private_loopback_and_link_local_addresses_are_not_public() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
        ] {
            assert!(!is_public(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["8.8.8.8", "2400:3200::1", "101.6.6.6"] {
            assert!(is_public(ip.parse().unwrap()), "{ip}");
        }
    }

    #[test]
    fn outside_development_an_endpoint_is_public_https() {
        assert!(check_url("https://hooks.example-hospital.cn/registry", false).is_ok());
        for url in [
            "http://hooks.example-hospital.cn/",
            "https://127.0.0.1/",
            "https://[::1]/",
            "https://localhost/x",
            "https://10.0.0.5/",
            "ftp://x.cn/",
            "not a url",
            "https://user:pw@x.cn/",
        ] {
            assert!(check_url(url, false).is_err(), "{url}");
        }
        assert!(check_url("http://127.0.0.1:9000/hook", true).is_ok());
    }
}
