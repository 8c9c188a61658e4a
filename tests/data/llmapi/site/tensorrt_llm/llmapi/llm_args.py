# TEST DOUBLE written for trtdiag's tests: a small file in the shape of TensorRT-LLM's
# tensorrt_llm/llmapi/llm_args.py (pydantic models, StrictBaseModel with extra="forbid",
# Field(default=..., ge=...)).  It is not TensorRT-LLM's code; field names and defaults follow the
# release's LlmArgs (KvCacheConfig.free_gpu_memory_fraction default 0.9, tokens_per_block 32 ...).
from typing import ClassVar, Dict, List, Literal, Optional, Union

from pydantic import BaseModel, ConfigDict, Field, PositiveInt, PrivateAttr


class StrictBaseModel(BaseModel):
    model_config = ConfigDict(extra="forbid")


class KvCacheConfig(StrictBaseModel):
    enable_block_reuse: bool = Field(default=True)
    max_tokens: Optional[int] = Field(default=None)
    max_attention_window: Optional[List[int]] = Field(default=None)
    free_gpu_memory_fraction: Optional[float] = Field(default=0.9)
    host_cache_size: Optional[int] = Field(default=None)
    dtype: str = Field(default="auto")
    max_gpu_total_bytes: int = Field(default=0)
    tokens_per_block: int = Field(default=32)


class SchedulerConfig(StrictBaseModel):
    capacity_scheduler_policy: Literal["MAX_UTILIZATION", "GUARANTEED_NO_EVICT", "STATIC_BATCH"] = Field(
        default="GUARANTEED_NO_EVICT")


class CudaGraphConfig(StrictBaseModel):
    batch_sizes: Optional[List[int]] = Field(default=None)
    max_batch_size: int = Field(default=0, ge=0)
    enable_padding: bool = Field(default=False)


class BaseLlmArgs(StrictBaseModel):
    model: str = Field(description="model")
    tokenizer: Optional[str] = Field(default=None)
    tensor_parallel_size: int = Field(default=1)
    pipeline_parallel_size: int = Field(default=1)
    moe_expert_parallel_size: Optional[int] = Field(default=None)
    gpus_per_node: Optional[int] = Field(default=None)
    trust_remote_code: bool = Field(default=False)
    dtype: str = Field(default="auto")
    kv_cache_config: KvCacheConfig = Field(default_factory=KvCacheConfig)
    scheduler_config: SchedulerConfig = Field(default_factory=SchedulerConfig)
    max_batch_size: Optional[int] = Field(default=None)
    max_num_tokens: Optional[int] = Field(default=None)
    max_seq_len: Optional[int] = Field(default=None)
    max_beam_width: Optional[PositiveInt] = Field(default=None)
    backend: Optional[str] = Field(default=None)
    _private: int = PrivateAttr(default=0)
    kind: ClassVar[str] = "base"


class TorchLlmArgs(BaseLlmArgs):
    cuda_graph_config: Optional[CudaGraphConfig] = Field(default_factory=CudaGraphConfig)
    disable_overlap_scheduler: bool = Field(default=False)
    enable_chunked_prefill: bool = Field(default=False)
    print_iter_log: bool = Field(default=False)
    attn_backend: str = Field(default="TRTLLM")


LlmArgs = TorchLlmArgs
