//! Which network addresses outgoing webhooks may reach.
//!
//! A user-supplied URL must not become a way into the machine's own network
//! (SSRF): loopback, private, carrier-grade NAT, link-local (cloud metadata
//! lives at 169.254.169.254) and other internal ranges are refused unless the
//! operator's allow-list names them. The check runs in the HTTP client's DNS
//! resolver, on the addresses the connection will actually use, so a name
//! that resolves to a public address when registered and to an internal one
//! later (DNS rebinding) is still refused.

use std::{
    net::{IpAddr, Ipv4Addr, SocketAddr},
    sync::Arc,
};

use ipnet::IpNet;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// Internal ranges refused by default, plus the operator's exceptions.
#[derive(Clone, Debug, Default)]
pub struct AddressPolicy {
    allow: Vec<IpNet>,
}

/// The allow-list holds something that is not an address or a CIDR range.
#[derive(Debug, thiserror::Error)]
#[error("notifications.webhook_allow: `{0}` is not an IP address or CIDR range")]
pub struct AllowListError(String);

/// A target refused by the policy; found in a connect error's source chain.
#[derive(Debug, thiserror::Error)]
#[error("{host} resolves only to internal addresses ({addresses}); refused")]
pub struct ForbiddenTarget {
    pub host: String,
    pub addresses: String,
}

impl AddressPolicy {
    /// `allow`: addresses (`127.0.0.1`) or ranges (`10.1.0.0/16`) to permit anyway.
    pub fn new(allow: &[String]) -> Result<Self, AllowListError> {
        let allow = allow
            .iter()
            .map(|entry| {
                let entry = entry.trim();
                entry
                    .parse::<IpNet>()
                    .or_else(|_| entry.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| AllowListError(entry.to_owned()))
            })
            .collect::<Result<_, _>>()?;
        Ok(AddressPolicy { allow })
    }

    pub fn permits(&self, ip: IpAddr) -> bool {
        !is_internal(ip) || self.allow.iter().any(|net| net.contains(&ip))
    }
}

/// Loopback, private, shared (CGNAT), link-local, unspecified, broadcast,
/// multicast, documentation and benchmarking ranges; IPv4-mapped and NAT64
/// IPv6 addresses are judged by the IPv4 address inside.
pub fn is_internal(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_internal_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_internal_v4(v4);
            }
            let segments = v6.segments();
            // 64:ff9b::/96 carries an IPv4 address in its last 32 bits.
            if segments[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
                let [.., a, b, c, d] = v6.octets();
                return is_internal_v4(Ipv4Addr::new(a, b, c, d));
            }
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (segments[0] & 0xfe00) == 0xfc00 // unique local fc00::/7
                || (segments[0] & 0xffc0) == 0xfe80 // link-local fe80::/10
                || (segments[0] & 0xffc0) == 0xfec0 // site-local (deprecated) fec0::/10
                || (segments[0] == 0x2001 && segments[1] == 0x0db8) // documentation
        }
    }
}

fn is_internal_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0 // "this network"
        || (a == 100 && (64..128).contains(&b)) // shared address space (CGNAT)
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 198 && (b == 18 || b == 19)) // benchmarking
        || a >= 240 // reserved
}

/// The HTTP client's resolver: system DNS, then the policy on every address.
#[derive(Debug)]
pub struct GuardedResolver {
    policy: Arc<AddressPolicy>,
}

impl GuardedResolver {
    pub fn new(policy: Arc<AddressPolicy>) -> Self {
        GuardedResolver { policy }
    }
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = Arc::clone(&self.policy);
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let resolved: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let (permitted, refused): (Vec<SocketAddr>, Vec<SocketAddr>) =
                resolved.into_iter().partition(|address| policy.permits(address.ip()));
            if permitted.is_empty() {
                let addresses =
                    refused.iter().map(|a| a.ip().to_string()).collect::<Vec<_>>().join(", ");
                return Err(Box::new(ForbiddenTarget { host, addresses }) as _);
            }
            Ok(Box::new(permitted.into_iter()) as Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("an address")
    }

    #[test]
    fn internal_ranges_are_refused_and_public_ones_allowed() {
        let policy = AddressPolicy::default();
        for internal in [
            "127.0.0.1",
            "10.0.0.5",
            "172.16.3.4",
            "192.168.1.1",
            "169.254.169.254",
            "100.100.100.200",
            "0.0.0.0",
            "255.255.255.255",
            "::1",
            "::",
            "fd00:ec2::254",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "64:ff9b::a9fe:a9fe",
        ] {
            assert!(!policy.permits(ip(internal)), "{internal} must be refused");
        }
        for public in ["93.184.215.14", "1.1.1.1", "2606:4700:4700::1111", "::ffff:8.8.8.8"] {
            assert!(policy.permits(ip(public)), "{public} must be allowed");
        }
    }

    #[test]
    fn the_allow_list_opens_exactly_what_it_names() {
        let policy =
            AddressPolicy::new(&["127.0.0.1".into(), "10.1.0.0/16".into()]).expect("valid");
        assert!(policy.permits(ip("127.0.0.1")));
        assert!(!policy.permits(ip("127.0.0.2")));
        assert!(policy.permits(ip("10.1.200.3")));
        assert!(!policy.permits(ip("10.2.0.1")));
        assert!(AddressPolicy::new(&["localhost".into()]).is_err());
        assert!(AddressPolicy::new(&["10.0.0.0/33".into()]).is_err());
    }

    #[tokio::test]
    async fn the_resolver_refuses_names_that_resolve_inside() {
        let resolver = GuardedResolver::new(Arc::new(AddressPolicy::default()));
        let name: Name = "localhost".parse().expect("name");
        let err = match resolver.resolve(name).await {
            Ok(_) => panic!("localhost must be refused"),
            Err(err) => err,
        };
        assert!(err.downcast_ref::<ForbiddenTarget>().is_some(), "{err}");

        let open = GuardedResolver::new(Arc::new(
            AddressPolicy::new(&["127.0.0.0/8".into(), "::1".into()]).expect("valid"),
        ));
        let name: Name = "localhost".parse().expect("name");
        assert!(open.resolve(name).await.is_ok());
    }
}
