#!/usr/bin/env bash
# One evaluation as a Slurm job array: N parts (`--part K/N`), each an array task with its own coordinator
# and workers (cluster/slurm.sbatch), then one job that merges them (cluster/slurm-merge.sbatch) once every
# part has completed. For jobs one coordinator cannot feed; each part is requeued and resumed on its own.
# Submit from the repository root:
#
#   cluster/slurm-parts.sh N [iba-coordinator arguments]
#   cluster/slurm-parts.sh 4 --model /shared/models/mnli --dataset mnli --data-path /shared/mnli/dev_matched.tsv \
#       --methods iba@all,ig,random --test-sample all
#
# Outputs: RESULTS_DIR/iba-ARRAYID/part-K (a part's outputs and results log) and RESULTS_DIR/iba-ARRAYID/merged
# (the whole job's, as one coordinator would have written them). SBATCH_OPTIONS (split on spaces) go to both
# sbatch calls before the script, e.g. "--nodes=2 --cpus-per-task=16 --partition=long"; IBA is the iba
# executable the merge runs; the rest of cluster/slurm.sbatch's environment applies to every part.
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 1 ] && [ "$1" -ge 1 ] 2>/dev/null || { sed -n '2,9p' "$0" >&2; exit 2; }
parts=$1; shift
read -r -a options <<< "${SBATCH_OPTIONS:-}"
array=$(sbatch --parsable --array="1-$parts" "${options[@]}" cluster/slurm.sbatch "$@")
array=${array%%;*}
merge=$(sbatch --parsable --dependency="afterok:$array" --kill-on-invalid-dep=yes "${options[@]}" \
    --nodes=1 --ntasks=1 --export="ALL,ARRAY_JOB=$array,PARTS=$parts" cluster/slurm-merge.sbatch)
merge=${merge%%;*}
echo "array job $array ($parts parts), merge job $merge: outputs in ${RESULTS_DIR:-$PWD/out}/iba-$array/merged"
