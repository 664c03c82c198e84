//! The controls, one module per area. Each module lists its controls in
//! `CONTROLS` and evaluates them; per-object controls run in parallel, the
//! ones that relate objects (RBAC, NetworkPolicy, admission) run after.

pub(crate) mod admission;
pub(crate) mod escape;
pub(crate) mod general;
pub(crate) mod images;
pub(crate) mod network;
pub(crate) mod pss;
pub(crate) mod rbac;
pub(crate) mod resources;
pub(crate) mod secrets;

use std::sync::LazyLock;

use crate::control::Control;

/// Every control, in the order the outputs list them.
pub(crate) static CATALOGUE: LazyLock<Vec<&'static Control>> = LazyLock::new(|| {
    let mut all: Vec<&'static Control> = pss::PSS.iter().map(|entry| &entry.control).collect();
    all.extend(escape::CONTROLS);
    all.extend(rbac::CONTROLS);
    all.extend(network::CONTROLS);
    all.extend(secrets::CONTROLS);
    all.extend(images::CONTROLS);
    all.extend(admission::CONTROLS);
    all.extend(resources::CONTROLS);
    all.extend(general::CONTROLS);
    all
});

/// The catalogue positions of the controls, by address, and the rank of
/// each control id in byte order.
struct ControlIndex {
    /// Address of each control and its position in the catalogue, sorted
    /// by address.
    by_address: Vec<(usize, usize)>,
    /// Rank of each catalogue entry's id in byte order; equal ids share a
    /// rank.
    id_rank: Vec<usize>,
}

static INDEX: LazyLock<ControlIndex> = LazyLock::new(|| {
    let mut by_address: Vec<(usize, usize)> = CATALOGUE
        .iter()
        .enumerate()
        .map(|(index, control)| (address(control), index))
        .collect();
    by_address.sort_unstable();

    let mut by_id: Vec<usize> = (0..CATALOGUE.len()).collect();
    by_id.sort_by_key(|&index| CATALOGUE[index].id);
    let mut id_rank = vec![0; CATALOGUE.len()];
    let mut rank = 0;
    for (position, &index) in by_id.iter().enumerate() {
        if position > 0 && CATALOGUE[by_id[position - 1]].id != CATALOGUE[index].id {
            rank += 1;
        }
        id_rank[index] = rank;
    }
    ControlIndex {
        by_address,
        id_rank,
    }
});

fn address(control: &Control) -> usize {
    std::ptr::from_ref(control) as usize
}

/// Returns the position of `control` in the catalogue, or `None` for a
/// control that is not in it.
pub(crate) fn control_index(control: &Control) -> Option<usize> {
    let by_address = &INDEX.by_address;
    let target = address(control);
    let position = by_address
        .binary_search_by_key(&target, |&(address, _)| address)
        .ok()?;
    Some(by_address[position].1)
}

/// Returns a number that orders controls as their ids do, or `None` for a
/// control that is not in the catalogue.
pub(crate) fn id_rank(control: &Control) -> Option<usize> {
    control_index(control).map(|index| INDEX.id_rank[index])
}
