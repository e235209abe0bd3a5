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

/// Host names that always mean this machine or a cloud's metadata service,
/// whatever DNS says: refused at registration as the addresses they stand
/// for would be at delivery (so the allow-list decides for both).
pub fn special_name(host: &str) -> Option<IpAddr> {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    if host == "localhost" || host.ends_with(".localhost") {
        return Some(IpAddr::V4(Ipv4Addr::LOCALHOST));
    }
    const METADATA: [&str; 6] = [
        "metadata",
        "metadata.google.internal",
        "metadata.goog",
        "instance-data",
        "instance-data.ec2.internal",
        "metadata.azure.com",
    ];
    METADATA.contains(&host.as_str()).then_some(IpAddr::V4(Ipv4Addr::new(169, 254, 169, 254)))
}

/// The IPv4 address an IPv6 address carries, in the forms that route to
/// it: IPv4-mapped `::ffff:a.b.c.d`, IPv4-compatible `::a.b.c.d`, NAT64
/// `64:ff9b::/96` and its local-use `64:ff9b:1::/48`, 6to4 `2002:AABB:CCDD::/48`.
fn embedded_v4(v6: std::net::Ipv6Addr) -> Option<Ipv4Addr> {
    if let Some(v4) = v6.to_ipv4_mapped() {
        return Some(v4);
    }
    let segments = v6.segments();
    let octets = v6.octets();
    let last = Ipv4Addr::new(octets[12], octets[13], octets[14], octets[15]);
    if segments[..6] == [0, 0, 0, 0, 0, 0] && !v6.is_loopback() && !v6.is_unspecified() {
        return Some(last);
    }
    if segments[..6] == [0x64, 0xff9b, 0, 0, 0, 0] || segments[..3] == [0x64, 0xff9b, 1] {
        return Some(last);
    }
    if segments[0] == 0x2002 {
        return Some(Ipv4Addr::new(octets[2], octets[3], octets[4], octets[5]));
    }
    None
}

/// Loopback, private, shared (CGNAT), link-local, unspecified, broadcast,
/// multicast, documentation and benchmarking ranges; IPv6 addresses that
/// carry an IPv4 address ([`embedded_v4`]) are judged by it, and Teredo
/// (`2001::/32`, a tunnel to an address hidden in it) is refused.
pub fn is_internal(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_internal_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = embedded_v4(v6) {
                return is_internal_v4(v4);
            }
            let segments = v6.segments();
            v6.is_loopback()
                || segments[..2] == [0x2001, 0] // Teredo

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
            "64:ff9b:1::a00:1",
            "2002:7f00:1::1",
            "2002:a9fe:a9fe::",
            "::127.0.0.1",
            "::10.0.0.1",
            "2001:0:4136:e378:8000:63bf:3fff:fdd2",
        ] {
            assert!(!policy.permits(ip(internal)), "{internal} must be refused");
        }
        for public in [
            "93.184.215.14",
            "1.1.1.1",
            "2606:4700:4700::1111",
            "::ffff:8.8.8.8",
            "2002:5db8:d70e::1",
            "64:ff9b::808:808",
        ] {
            assert!(policy.permits(ip(public)), "{public} must be allowed");
        }
    }

    #[test]
    fn local_and_metadata_names_stand_for_their_addresses() {
        for local in ["localhost", "LOCALHOST", "localhost.", "api.localhost", "A.LocalHost."] {
            assert_eq!(special_name(local), Some(ip("127.0.0.1")), "{local}");
        }
        for metadata in ["metadata.google.internal", "METADATA.GOOGLE.INTERNAL.", "instance-data"] {
            assert_eq!(special_name(metadata), Some(ip("169.254.169.254")), "{metadata}");
        }
        for public in ["example.org", "notlocalhost", "localhost.example.org"] {
            assert_eq!(special_name(public), None, "{public}");
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
