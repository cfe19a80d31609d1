# cgrpc_generate(): generate protobuf-c messages and cgrpc stubs at build time.
# (Defined by cgrpc/ — see cgrpc/README.md. This placeholder keeps the include
# order stable until the generator lands.)
