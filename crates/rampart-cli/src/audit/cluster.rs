//! Reading a live cluster through kubeconfig with read-only list calls.

use rampart_posture::Manifests;
use rampart_report::audit::InputError;

use super::ClusterArgs;

/// The objects listed from a cluster.
pub struct Listed {
    /// The kubeconfig context used.
    pub context: String,
    pub manifests: Manifests,
    pub errors: Vec<InputError>,
    /// Lists the credentials may not read, such as `secrets: forbidden`.
    pub gaps: Vec<String>,
}

pub fn load(_args: &ClusterArgs, _quiet: bool) -> anyhow::Result<Listed> {
    // TODO: list the cluster's objects with kube-rs.
    anyhow::bail!("--cluster is not available in this build")
}
