#!/bin/sh
# One MPI rank: says which one it is, from the variables Open MPI (or another runner) sets.
rank=${OMPI_COMM_WORLD_RANK:-${PMI_RANK:-${WEFT_FAKE_MPI_RANK:-0}}}
size=${OMPI_COMM_WORLD_SIZE:-${PMI_SIZE:-${WEFT_FAKE_MPI_SIZE:-1}}}
echo "rank $rank of $size: $1"
