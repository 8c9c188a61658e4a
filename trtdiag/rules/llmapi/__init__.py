"""Rules of the LLM-API deployment (LLA0xx): trtllm-serve launches and Triton's llmapi model,
read with the LlmArgs schema of the TensorRT-LLM that will run them (docs/pytorch_backend.md)."""
