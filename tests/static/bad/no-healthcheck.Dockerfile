# expect: final stage has no HEALTHCHECK
FROM debian:bookworm-slim
ENTRYPOINT ["tazpod", "init", "--"]
STOPSIGNAL SIGTERM
ARG CACHEBUST=0
RUN echo "${CACHEBUST}" > /bust
COPY dotfiles/ /home/dev/
