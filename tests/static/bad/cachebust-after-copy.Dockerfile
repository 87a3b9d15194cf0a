# expect: ARG CACHEBUST must come before the dotfiles COPY
FROM debian:bookworm-slim
RUN true
ENTRYPOINT ["tazpod", "init", "--"]
CMD []
STOPSIGNAL SIGTERM
HEALTHCHECK CMD ["tazpod", "health"]
COPY dotfiles/ /home/dev/
ARG CACHEBUST=0
