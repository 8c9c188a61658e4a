"""Which recorded environment variables differ between ranks by design (never compared across ranks)."""

PER_RANK_VARS = ("CUDA_VISIBLE_DEVICES", "NVIDIA_VISIBLE_DEVICES", "OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_LOCAL_RANK",
                 "SLURM_PROCID", "SLURM_LOCALID", "PMI_RANK", "PMIX_RANK", "LOCAL_RANK", "RANK", "HOSTNAME",
                 "OMPI_MCA_ess_base_vpid", "OMPI_MCA_orte_ess_node_rank")
