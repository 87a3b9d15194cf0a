# expect: no RUN uses $CACHEBUST
FROM debian:bookworm-slim
ENTRYPOINT ["tazpod", "init", "--"]
CMD []
STOPSIGNAL SIGTERM
HEALTHCHECK CMD ["tazpod", "health"]
ARG CACHEBUST=0
RUN echo static > /bust
COPY dotfiles/ /home/dev/
