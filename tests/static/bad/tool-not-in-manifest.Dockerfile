# expect: no line in images/tools.manifest
FROM debian:bookworm-slim
ARG SKIP_EXTERNAL_DOWNLOADS=0
RUN SKIP_EXTERNAL_DOWNLOADS="${SKIP_EXTERNAL_DOWNLOADS}" /usr/local/lib/tazpod-images/install-tool k9s
ENTRYPOINT ["tazpod", "init", "--"]
CMD []
STOPSIGNAL SIGTERM
HEALTHCHECK CMD ["tazpod", "health"]
ARG CACHEBUST=0
RUN echo "${CACHEBUST}" > /bust
COPY dotfiles/ /home/dev/
