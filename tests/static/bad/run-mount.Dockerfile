# expect: RUN --mount
FROM debian:bookworm-slim
RUN --mount=type=cache,target=/var/cache/apt apt-get update
ENTRYPOINT ["tazpod", "init", "--"]
CMD []
STOPSIGNAL SIGTERM
HEALTHCHECK CMD ["tazpod", "health"]
ARG CACHEBUST=0
RUN echo "${CACHEBUST}" > /bust
COPY dotfiles/ /home/dev/
