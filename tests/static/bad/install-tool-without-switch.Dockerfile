# expect: without SKIP_EXTERNAL_DOWNLOADS passed through
FROM debian:bookworm-slim
RUN /usr/local/lib/tazpod-images/install-tool kubectl
ENTRYPOINT ["tazpod", "init", "--"]
CMD []
STOPSIGNAL SIGTERM
HEALTHCHECK CMD ["tazpod", "health"]
ARG CACHEBUST=0
RUN echo "${CACHEBUST}" > /bust
COPY dotfiles/ /home/dev/
