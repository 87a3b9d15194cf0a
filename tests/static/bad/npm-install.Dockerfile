# expect: npm install resolves versions
FROM debian:bookworm-slim
RUN npm install -g @google/gemini-cli
ENTRYPOINT ["tazpod", "init", "--"]
CMD []
STOPSIGNAL SIGTERM
HEALTHCHECK CMD ["tazpod", "health"]
ARG CACHEBUST=0
RUN echo "${CACHEBUST}" > /bust
COPY dotfiles/ /home/dev/
