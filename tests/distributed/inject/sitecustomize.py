"""Loaded at start-up by the tests' MPI ranks: GRADTRAIN_TEST_FAULT=raise|kill makes rank
GRADTRAIN_TEST_FAULT_RANK (1) raise, or kill itself with SIGKILL, at its third training step."""

import os

_fault = os.environ.get("GRADTRAIN_TEST_FAULT")
if _fault and os.environ.get("PMI_RANK") == os.environ.get("GRADTRAIN_TEST_FAULT_RANK", "1"):
    import signal

    from gradtrain.train import trainer as _trainer

    _original = _trainer.Trainer.train_step
    _calls = [0]

    def _failing_step(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        _calls[0] += 1
        if _calls[0] == 3:
            if _fault == "raise":
                raise RuntimeError("an injected fault")
            os.kill(os.getpid(), signal.SIGKILL)
        return _original(self, *args, **kwargs)

    _trainer.Trainer.train_step = _failing_step
