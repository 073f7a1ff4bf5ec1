"""The explain commands' logic: gradient accumulation step by step, the loss graph, gradcheck.

Each module turns a built experiment into plain data (tables of text, a graph, JSON-ready
dicts); the command line in gradtrain.cli.explain_commands only prints them.
"""
