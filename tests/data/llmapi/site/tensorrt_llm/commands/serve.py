# TEST DOUBLE written for trtdiag's tests: the shape of TensorRT-LLM's tensorrt_llm/commands/serve.py
# (a click command "serve" with options); not TensorRT-LLM's code.  This release has no --set.
import click


@click.command("serve")
@click.argument("model", type=str)
@click.option("--host", type=str, default="localhost")
@click.option("--port", type=int, default=8000)
@click.option("--tensor_parallel_size", "--tp_size", type=int, default=1)
@click.option("--pipeline_parallel_size", "--pp_size", type=int, default=1)
@click.option("--free_gpu_memory_fraction", "--kv_cache_free_gpu_memory_fraction", type=float, default=0.9)
@click.option("--trust_remote_code", is_flag=True, default=False)
@click.option("--config", "--extra_llm_api_options", "extra_llm_api_options", type=str, default=None)
def serve(model, host, port, tensor_parallel_size, pipeline_parallel_size, free_gpu_memory_fraction, trust_remote_code,
          extra_llm_api_options):
    pass
