# A preprocessing model.py written for trtdiag's replay tests (not a copy of tensorrtllm_backend's):
# it does to the tokenizer what the real v0.11-v0.19 files do at initialize (one trusting
# AutoTokenizer.from_pretrained, pad_token guarded by `if not pad_token`, END_ID/PAD_ID from
# encode(eos_token)/encode(pad_token)) and a one-request execute().
import json

import numpy as np
import triton_python_backend_utils as pb_utils
from transformers import AutoTokenizer


class TritonPythonModel:

    def initialize(self, args):
        model_config = json.loads(args['model_config'])
        tokenizer_dir = model_config['parameters']['tokenizer_dir']['string_value']
        self.tokenizer = AutoTokenizer.from_pretrained(tokenizer_dir, padding_side='left', trust_remote_code=True)
        if not self.tokenizer.pad_token:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        self.tokenizer_end_id = self.tokenizer.encode(self.tokenizer.eos_token, add_special_tokens=False)[0]
        self.tokenizer_pad_id = self.tokenizer.encode(self.tokenizer.pad_token, add_special_tokens=False)[0]
        self.input_id_dtype = pb_utils.triton_string_to_numpy(
            pb_utils.get_output_config_by_name(model_config, 'INPUT_ID')['data_type'])

    def execute(self, requests):
        responses = []
        for request in requests:
            query = pb_utils.get_input_tensor_by_name(request, 'QUERY').as_numpy()
            ids = [self.tokenizer.encode(q[0].decode(), add_special_tokens=False) for q in query]
            out = pb_utils.Tensor('INPUT_ID', np.array(ids).astype(self.input_id_dtype))
            responses.append(pb_utils.InferenceResponse(output_tensors=[out]))
        return responses
