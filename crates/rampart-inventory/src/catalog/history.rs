//! Layer provenance: in which layer a package appeared.

use std::collections::HashSet;
use std::hash::Hash;

use rampart_image::LayerIndex;

/// Returns the layer from which `key` is listed in every later version of a
/// package database: the layer that introduced the package as the final
/// image has it. `versions` holds, oldest first, each version's layer and the
/// keys (name, version, architecture) it lists.
pub(crate) fn introduced_in<K: Eq + Hash>(
    versions: &[(LayerIndex, HashSet<K>)],
    key: &K,
) -> Option<LayerIndex> {
    let mut introduced = None;
    for (layer, keys) in versions.iter().rev() {
        if !keys.contains(key) {
            break;
        }
        introduced = Some(*layer);
    }
    introduced
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn package_readded_counts_from_last_addition() {
        let versions = vec![
            (0, HashSet::from(["a", "b"])),
            (1, HashSet::from(["a"])),
            (2, HashSet::from(["a", "b"])),
        ];
        assert_eq!(introduced_in(&versions, &"a"), Some(0));
        assert_eq!(introduced_in(&versions, &"b"), Some(2));
        assert_eq!(introduced_in(&versions, &"c"), None);
    }
}
