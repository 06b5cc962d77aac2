package sticky.it.apps;

import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.netty.shaded.io.netty.channel.epoll.Epoll;
import io.grpc.stub.ServerCalls;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;

/**
 * A gRPC server (grpc-netty-shaded: gRPC's own copy of Netty 4.1, on its
 * epoll transport when available, as by default) with one unary method,
 * {@link #WHO}, that answers {@link Reply#line} for the caller. Prints which
 * transport its Netty has. Args: port.
 */
public final class GrpcApp {
    /** Strings as UTF-8: no generated code needed. */
    public static final MethodDescriptor.Marshaller<String> TEXT = new MethodDescriptor.Marshaller<>() {
        @Override
        public InputStream stream(String value) {
            return new ByteArrayInputStream(value.getBytes(StandardCharsets.UTF_8));
        }

        @Override
        public String parse(InputStream stream) {
            try {
                return new String(stream.readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    };

    public static final MethodDescriptor<String, String> WHO = MethodDescriptor.<String, String>newBuilder()
            .setType(MethodDescriptor.MethodType.UNARY).setFullMethodName("sticky/Who")
            .setRequestMarshaller(TEXT).setResponseMarshaller(TEXT).build();

    private static final Context.Key<InetSocketAddress> PEER = Context.key("peer");

    public static void main(String[] args) throws Exception {
        System.out.println("transport " + (Epoll.isAvailable() ? "epoll" : "nio"));
        ServerServiceDefinition service = ServerServiceDefinition.builder("sticky")
                .addMethod(WHO, ServerCalls.asyncUnaryCall((request, response) -> {
                    response.onNext(Reply.line(PEER.get(), 0));
                    response.onCompleted();
                })).build();
        ServerInterceptor peer = new ServerInterceptor() {
            @Override
            public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
                    ServerCallHandler<Q, R> next) {
                InetSocketAddress address = (InetSocketAddress) call.getAttributes().get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR);
                return Contexts.interceptCall(Context.current().withValue(PEER, address), call, headers, next);
            }
        };
        Server server = NettyServerBuilder.forPort(Integer.parseInt(args[0]))
                .addService(ServerInterceptors.intercept(service, peer)).build().start();
        Reply.listening(server.getPort());
        server.awaitTermination();
    }
}
