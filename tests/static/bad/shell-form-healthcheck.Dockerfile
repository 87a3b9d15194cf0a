# expect: HEALTHCHECK must be CMD ["tazpod", "health"]
FROM debian:bookworm-slim
ENTRYPOINT ["tazpod", "init", "--"]
STOPSIGNAL SIGTERM
HEALTHCHECK CMD curl -f http://127.0.0.1:9090/healthz
ARG CACHEBUST=0
RUN echo "${CACHEBUST}" > /bust
COPY dotfiles/ /home/dev/
