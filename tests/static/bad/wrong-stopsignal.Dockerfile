# expect: STOPSIGNAL must be SIGTERM
FROM debian:bookworm-slim
ENTRYPOINT ["tazpod", "init", "--"]
STOPSIGNAL SIGKILL
HEALTHCHECK CMD ["tazpod", "health"]
ARG CACHEBUST=0
RUN echo "${CACHEBUST}" > /bust
COPY dotfiles/ /home/dev/
