# expect: curl/wget in RUN
FROM debian:bookworm-slim
RUN curl -fsSL -o /usr/local/bin/helm https://get.helm.sh/helm
ENTRYPOINT ["tazpod", "init", "--"]
CMD []
STOPSIGNAL SIGTERM
HEALTHCHECK CMD ["tazpod", "health"]
ARG CACHEBUST=0
RUN echo "${CACHEBUST}" > /bust
COPY dotfiles/ /home/dev/
