#!/usr/bin/env bash
# Runs one gan_jax config on every worker of a Cloud TPU pod slice.
#
#   experiments/launch_tpu_pod.sh TPU_NAME ZONE WORKDIR [train.py flags ...]
#
# e.g.
#   experiments/launch_tpu_pod.sh my-v4-32 us-central2-b /mnt/shared/runs/sngan \
#       --config=configs/sngan_resnet_cifar10.py \
#       --config.data.data_dir=/mnt/shared/tensorflow_datasets
#
# Every worker runs the same command (JAX's multi-controller model):
# jax.distributed finds the slice by itself on TPU VMs (no coordinator flags),
# each worker reads its own shard of the data, and only process 0 writes logs,
# samples and eval.json. WORKDIR (and data_dir) must be one directory that
# every worker sees at the same path -- a Filestore/NFS mount or a bucket
# mounted with gcsfuse -- because every worker writes its part of each orbax
# checkpoint there. The repository is copied to every worker and installed
# first.
#
# Environment: REPO_DIR (where the code goes on the workers, default
# ~/gan_jax), PROJECT (gcloud project, default: gcloud's configured one).
set -euo pipefail

if [[ $# -lt 3 ]]; then
  sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
fi
TPU_NAME=$1
ZONE=$2
WORKDIR=$3
shift 3
REPO_DIR=${REPO_DIR:-'~/gan_jax'}
PROJECT_FLAG=()
if [[ -n "${PROJECT:-}" ]]; then
  PROJECT_FLAG=(--project="$PROJECT")
fi
HERE=$(cd "$(dirname "$0")/.." && pwd)

# Copy the working tree (without its git history) to every worker.
tar -C "$HERE" --exclude=.git -czf /tmp/gan_jax_src.tar.gz .
gcloud compute tpus tpu-vm scp /tmp/gan_jax_src.tar.gz "$TPU_NAME":/tmp/ \
  --zone="$ZONE" --worker=all "${PROJECT_FLAG[@]}"

# Quote the flags once, for the remote shell.
FLAGS=$(printf ' %q' "$@")
gcloud compute tpus tpu-vm ssh "$TPU_NAME" --zone="$ZONE" --worker=all \
  "${PROJECT_FLAG[@]}" --command="
    set -e
    mkdir -p $REPO_DIR && tar -C $REPO_DIR -xzf /tmp/gan_jax_src.tar.gz
    cd $REPO_DIR
    pip install -q -e . 'jax[tpu]' \
      -f https://storage.googleapis.com/jax-releases/libtpu_releases.html
    python experiments/train.py --workdir=$(printf '%q' "$WORKDIR")$FLAGS"
