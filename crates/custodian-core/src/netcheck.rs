//! Is this machine air-gapped? The console expects to run offline, so it
//! looks for network interfaces that are up and not loopback, and the home
//! screen shows a warning banner while any exists.

/// A network interface that is up and not loopback.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveInterface {
    /// Interface name (`eth0`, `wlan0`).
    pub name: String,
    /// One of its addresses.
    pub address: String,
}

/// Lists non-loopback interfaces that have an address. An error reading the
/// interfaces is reported as an empty list plus the error text, so the
/// caller can say "could not check" rather than "offline".
pub fn live_interfaces() -> Result<Vec<LiveInterface>, String> {
    let ifaces = if_addrs::get_if_addrs().map_err(|e| e.to_string())?;
    let mut out: Vec<LiveInterface> = ifaces
        .into_iter()
        .filter(|i| !i.is_loopback() && !i.ip().is_loopback())
        .map(|i| LiveInterface {
            name: i.name.clone(),
            address: i.ip().to_string(),
        })
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name).then(a.address.cmp(&b.address)));
    out.dedup_by(|a, b| a.name == b.name);
    Ok(out)
}
