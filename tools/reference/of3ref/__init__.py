"""Reference-fixture generator for of3: runs the pinned OpenFold3 code (commit b7940cb0)
on CPU and writes what it computes as of3 bundles (docs/FORMAT.md)."""

OF3_COMMIT = "b7940cb0"
OF3_REPO = "https://github.com/aqlaboratory/openfold-3"
PRODUCER = f"tools/reference (openfold-3 {OF3_COMMIT})"
