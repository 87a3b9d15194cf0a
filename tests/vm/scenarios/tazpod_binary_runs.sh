# The freshly built tazpod and every library it needs are in the guest.
# timeout: 30
# weight: 5
out=$(tazpod --version)
expect_eq "$out" "tazpod $TAZPOD_EXPECTED_VERSION" "tazpod --version in the guest"
