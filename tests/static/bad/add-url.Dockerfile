# expect: ADD of a URL
FROM debian:bookworm-slim
ADD https://dl.k8s.io/release/v1.34.1/bin/linux/amd64/kubectl /usr/local/bin/
ENTRYPOINT ["tazpod", "init", "--"]
CMD []
STOPSIGNAL SIGTERM
HEALTHCHECK CMD ["tazpod", "health"]
ARG CACHEBUST=0
RUN echo "${CACHEBUST}" > /bust
COPY dotfiles/ /home/dev/
