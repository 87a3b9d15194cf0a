# expect: no USER
FROM debian:bookworm-slim
USER dev
ENTRYPOINT ["tazpod", "init", "--"]
CMD []
STOPSIGNAL SIGTERM
HEALTHCHECK CMD ["tazpod", "health"]
ARG CACHEBUST=0
RUN echo "${CACHEBUST}" > /bust
COPY dotfiles/ /home/dev/
