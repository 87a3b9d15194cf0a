# expect: ENTRYPOINT must be in exec form
FROM debian:bookworm-slim
ENTRYPOINT tazpod init
CMD []
STOPSIGNAL SIGTERM
HEALTHCHECK CMD ["tazpod", "health"]
ARG CACHEBUST=0
RUN echo "${CACHEBUST}" > /bust
COPY dotfiles/ /home/dev/
