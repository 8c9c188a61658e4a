"""trtdiag: a doctor for LLM deployments on TensorRT, TensorRT-LLM and Triton Inference Server."""

__version__ = "0.1.0"
