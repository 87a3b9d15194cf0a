# `docker run -d` of the image: tazpod init is PID 1 and the container turns
# `healthy` through the image's own HEALTHCHECK (`tazpod health`).
# timeout: 720
# weight: 25
. /usr/lib/tazpod-test/e2e-lib.sh
healthcheck=$(docker image inspect -f '{{json .Config.Healthcheck.Test}}' "$E2E_IMAGE")
echo "image HEALTHCHECK: $healthcheck"
expect_eq "$healthcheck" '["CMD","tazpod","health"]' "the image's HEALTHCHECK"

E2E_FAST_HEALTH=1 start_container healthy_c
wait_healthy healthy_c 120
echo "healthy after $SECONDS s"
expect_eq "$(docker exec healthy_c cat /proc/1/comm)" tazpod "PID 1 of the container"
docker exec healthy_c tazpod health
